// The braid monitor's page: plain JavaScript, no build step. It reads /api/cluster and /api/topics,
// redraws every refresh interval, and posts the operator actions. Data never goes through innerHTML.
(function () {
  'use strict';
  var TOKEN_KEY = 'braid-monitor-token';
  var refreshMs = 2000;
  var timer = null;
  var armed = {};

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function request(method, path, body) {
    var headers = {};
    if (token()) { headers['Authorization'] = 'Bearer ' + token(); }
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; }
    return fetch(path, { method: method, headers: headers, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (response) {
        if (response.status === 401) {
          document.getElementById('auth').classList.remove('hidden');
          throw new Error('the monitor needs its bearer token');
        }
        return response.json().then(function (json) {
          if (!response.ok) { throw new Error(json.error || ('HTTP ' + response.status)); }
          return json;
        });
      });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === 'class') { node.className = attrs[key]; }
      else if (key === 'text') { node.textContent = attrs[key]; }
      else if (key.indexOf('on') === 0) { node.addEventListener(key.substring(2), attrs[key]); }
      else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function fixed(value, digits) {
    return typeof value === 'number' ? value.toFixed(digits) : '–';
  }

  function setStatus(text, failed) {
    var status = document.getElementById('status');
    status.textContent = text;
    status.className = failed ? 'status error' : 'status';
  }

  // ---- topology ----
  function renderServices(cluster) {
    var root = document.getElementById('services');
    var maxLinks = 1;
    cluster.services.forEach(function (s) {
      s.nodes.forEach(function (n) { maxLinks = Math.max(maxLinks, n.links); });
    });
    var cards = cluster.services.map(function (service) {
      var rows = [];
      service.nodes.forEach(function (n) {
        rows.push(nodeRow(n, maxLinks));
        var hot = hotRow(n);
        if (hot) { rows.push(hot); }
      });
      return el('div', { 'class': 'service', 'data-service': service.name }, [
        el('h3', {}, [service.name + ' ', el('span', { 'class': 'dim small',
          text: (service.leader ? 'leader ' + service.leader : 'no leader') + ' · epoch ' + service.epoch +
            ' · ' + service.nodes.length + ' node' + (service.nodes.length === 1 ? '' : 's') })]),
        el('table', { 'class': 'grid' }, [
          el('thead', {}, [el('tr', {}, ['', 'node', 'state', 'address', 'weight', 'links', 'calls/s', 'p99 ms', 'role', '']
            .map(function (h, i) { return el('th', { 'class': i >= 6 && i <= 7 ? 'num' : '', text: h }); }))]),
          el('tbody', {}, rows)
        ])
      ]);
    });
    root.replaceChildren.apply(root, cards.length ? cards : [el('div', { 'class': 'empty', text: 'no nodes registered' })]);
  }

  function nodeRow(n, maxLinks) {
    var state = n.reachable ? n.state : 'UNREACHABLE';
    var weight = el('input', { 'class': 'weight', type: 'number', min: '0', max: '1000000', value: String(n.weight),
      'data-node': n.id, 'aria-label': 'weight of ' + n.id });
    var setWeight = el('button', { 'class': 'set-weight', 'data-node': n.id, text: 'set', onclick: function () {
      act(setWeight, '/api/nodes/' + encodeURIComponent(n.id) + '/weight', { weight: parseInt(weight.value, 10) },
        'weight of ' + n.id + ' set');
    } });
    // Two clicks drain: the first arms the button for 5 s (kept across refreshes), the second acts.
    var isArmed = (armed[n.id] || 0) > Date.now();
    var drain = el('button', { 'class': 'drain' + (isArmed ? ' armed' : ''), 'data-node': n.id,
      text: isArmed ? 'confirm drain' : 'drain', onclick: function () {
        if ((armed[n.id] || 0) <= Date.now()) {
          armed[n.id] = Date.now() + 5000;
          drain.classList.add('armed');
          drain.textContent = 'confirm drain';
          return;
        }
        delete armed[n.id];
        act(drain, '/api/nodes/' + encodeURIComponent(n.id) + '/drain', {}, n.id + ' is draining');
      } });
    if (n.state !== 'ACTIVE') { drain.disabled = true; }
    return el('tr', { 'class': 'node', 'data-node': n.id, 'data-state': n.state, 'data-leader': String(n.leader),
        'data-reachable': String(n.reachable), title: n.error || '' }, [
      el('td', {}, [n.leader ? el('span', { 'class': 'star', title: 'leader', text: '★' }) : null]),
      el('td', {}, [el('strong', { text: n.id }), n.self ? el('span', { 'class': 'dim small', text: ' (this node)' }) : null]),
      el('td', {}, [el('span', { 'class': 'badge ' + state, text: state })]),
      el('td', { 'class': 'dim', text: n.address }),
      el('td', {}, [weight, ' ', setWeight]),
      el('td', { 'class': 'links', 'data-links': String(n.links) }, [
        el('span', { 'class': 'bar', style: 'width:' + Math.round(100 * Math.max(0, n.links) / maxLinks) + 'px' }),
        el('span', { 'class': 'link-count', text: String(n.links) })]),
      el('td', { 'class': 'num', text: fixed(n.callRate, 1) }),
      el('td', { 'class': 'num', text: fixed(n.p99Ms, 2) }),
      el('td', { 'class': 'dim', text: n.role + ' · e' + n.epoch }),
      el('td', {}, [drain])
    ]);
  }

  // The node's hot players, when its figures carry them (hotPlayers: [{player, calls, runMillis}]).
  function hotRow(n) {
    if (!Array.isArray(n.hotPlayers) || !n.hotPlayers.length) { return null; }
    var items = [];
    n.hotPlayers.forEach(function (h, i) {
      if (i > 0) { items.push(' · '); }
      items.push(el('a', { href: '#', 'class': 'hot-player mono', 'data-player': String(h.player), onclick: function (e) {
        e.preventDefault(); showPlayer(String(h.player));
      }, text: String(h.player) }));
      items.push(' ' + h.calls + ' calls, ' + fixed(h.runMillis, 1) + ' ms run');
    });
    return el('tr', { 'class': 'hot', 'data-node': n.id }, [el('td'), el('td', { colspan: '9' },
      [el('span', { text: 'hot players: ' })].concat(items))]);
  }

  function act(button, path, body, done) {
    button.disabled = true;
    request('POST', path, body).then(function () {
      setStatus(done, false);
      refresh();
    }).catch(function (e) {
      button.disabled = false;
      setStatus(e.message, true);
    });
  }

  // ---- methods ----
  function renderMethods(cluster) {
    var root = document.getElementById('methods');
    var cards = cluster.methods.map(function (m) {
      return el('div', { 'class': 'method', 'data-method': m.method, 'data-service': m.service }, [
        el('div', { 'class': 'title' }, [el('strong', { text: m.service + ' / ' + m.method }),
          el('span', { 'class': 'dim', text: fixed(m.rate, 1) + ' calls/s · p99 ' + fixed(m.p99Ms, 2) + ' ms' })]),
        chart(m.history),
        el('div', { 'class': 'legend', text: m.calls + ' calls, ' + m.errors + ' errors · x: time (HH:MM:SS); y: calls/s (left, solid), p99 ms (right, dashed)' })
      ]);
    });
    root.replaceChildren.apply(root, cards.length ? cards : [el('div', { 'class': 'empty', text: 'no calls served yet' })]);
  }

  // A chart with axes: time on x (wall clock, HH:MM:SS), calls/s on the left y axis (solid line),
  // p99 in ms on the right y axis (dashed line). Scales start at 0.
  function chart(history) {
    var ns = 'http://www.w3.org/2000/svg';
    var W = 320, H = 132, L = 42, R = 278, T = 8, B = 100;
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('class', 'chart');
    function add(tag, attrs, text) {
      var node = document.createElementNS(ns, tag);
      Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
      if (text !== undefined) { node.textContent = text; }
      svg.appendChild(node);
      return node;
    }
    var points = history || [];
    var t0 = points.length ? points[0][0] : Date.now() - 60000;
    var t1 = points.length ? points[points.length - 1][0] : Date.now();
    if (t1 === t0) { t0 = t1 - 1000; }
    var maxRate = nice(Math.max.apply(null, points.map(function (s) { return s[1]; }).concat([0])));
    var maxP99 = nice(Math.max.apply(null, points.map(function (s) { return s[2]; }).concat([0])));
    var axis = add('g', { 'class': 'axis' });
    function axisAdd(tag, attrs, text) { var n = add(tag, attrs, text); axis.appendChild(n); return n; }
    [0, 0.5, 1].forEach(function (f) {
      var y = B - (B - T) * f;
      axisAdd('line', { x1: L, x2: R, y1: y, y2: y, 'class': 'grid-line' });
      axisAdd('text', { x: L - 4, y: y + 3, 'text-anchor': 'end', 'class': 'y-rate' }, short(maxRate * f));
      axisAdd('text', { x: R + 4, y: y + 3, 'text-anchor': 'start', 'class': 'y-p99' }, short(maxP99 * f));
    });
    axisAdd('line', { x1: L, x2: L, y1: T, y2: B });
    axisAdd('line', { x1: R, x2: R, y1: T, y2: B });
    [0, 0.5, 1].forEach(function (f) {
      var x = L + (R - L) * f;
      axisAdd('line', { x1: x, x2: x, y1: B, y2: B + 3 });
      axisAdd('text', { x: x, y: B + 13, 'text-anchor': f === 0 ? 'start' : f === 1 ? 'end' : 'middle', 'class': 'x-time' },
        clock(t0 + (t1 - t0) * f));
    });
    axisAdd('text', { x: L - 4, y: H - 4, 'text-anchor': 'start', 'class': 'y-title' }, 'calls/s (solid)');
    axisAdd('text', { x: (L + R) / 2, y: H - 4, 'text-anchor': 'middle', 'class': 'x-title' }, 'time');
    axisAdd('text', { x: R + 4, y: H - 4, 'text-anchor': 'end', 'class': 'y-title' }, 'p99 ms (dashed)');
    if (points.length < 2) {
      axisAdd('text', { x: (L + R) / 2, y: (T + B) / 2, 'text-anchor': 'middle' }, 'collecting samples…');
      return svg;
    }
    [[1, maxRate, 'rate-line'], [2, maxP99, 'p99-line']].forEach(function (spec) {
      var line = points.map(function (s) {
        var x = L + (R - L) * (s[0] - t0) / (t1 - t0);
        var y = B - (B - T) * (spec[1] > 0 ? s[spec[0]] / spec[1] : 0);
        return x.toFixed(1) + ',' + y.toFixed(1);
      }).join(' ');
      add('polyline', { points: line, 'class': spec[2] });
    });
    return svg;
  }

  // The next round number at or above v (1, 2, 5 × 10^n), so the axis reads plainly.
  function nice(v) {
    if (!(v > 0)) { return 1; }
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  function short(v) {
    if (v >= 1000) { return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + 'k'; }
    return v >= 10 || v === 0 ? String(Math.round(v)) : v.toFixed(v >= 1 ? 1 : 2);
  }

  function clock(ms) {
    var d = new Date(ms);
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map(function (n) { return (n < 10 ? '0' : '') + n; }).join(':');
  }

  function clockMs(ms) {
    var d = new Date(ms);
    var milli = d.getMilliseconds();
    return clock(ms) + '.' + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli;
  }

  // ---- topics ----
  function renderTopics(topics) {
    var body = document.querySelector('#topics tbody');
    var rows = [];
    topics.topics.forEach(function (t) {
      var dead = el('td', { 'class': 'num' + (t.deadLetters > 0 ? ' dead' : ''), text: String(t.deadLetters) });
      if (!t.channels.length) {
        rows.push(el('tr', { 'class': 'topic', 'data-topic': t.name }, [el('td', { text: t.name }),
          el('td', { 'class': 'empty', text: 'no channels' }), el('td'), el('td'), el('td'), dead]));
      }
      t.channels.forEach(function (c, i) {
        rows.push(el('tr', { 'class': 'channel', 'data-topic': t.name, 'data-channel': c.name }, [
          el('td', { text: i === 0 ? t.name : '' }),
          el('td', { text: c.name }),
          el('td', { 'class': 'num', text: String(c.consumers) }),
          el('td', { 'class': 'num backlog', text: c.backlog < 0 ? '?' : String(c.backlog) }),
          el('td', { 'class': 'num pending', text: String(c.pending) }),
          i === 0 ? dead : el('td')
        ]));
      });
    });
    body.replaceChildren.apply(body, rows.length ? rows : [el('tr', {}, [el('td', { 'class': 'empty', colspan: '6',
      text: topics.supported ? 'no topics' : 'this pub-sub store shows no figures' })])]);
  }

  // ---- where is a player? ----
  var shownPlayer = null;

  document.getElementById('lookup').addEventListener('submit', function (event) {
    event.preventDefault();
    var value = document.getElementById('lookup-token').value.trim();
    var out = document.getElementById('lookup-result');
    if (!value) { return; }
    request('GET', '/api/tokens/' + encodeURIComponent(value)).then(function (answer) {
      out.replaceChildren.apply(out, answer.links.length ? answer.links.map(function (l) {
        return el('div', { 'class': 'token-link', 'data-service': l.service, 'data-node': l.node },
          [el('strong', { text: l.service }), ' → ' + l.node + ' ' + (l.address || '') + ' ',
            el('span', { 'class': 'badge ' + l.state, text: l.state })]);
      }) : [el('span', { 'class': 'empty', text: 'not linked to any node' })]);
    }).catch(function (e) { out.textContent = e.message; });
    showPlayer(value);
  });

  document.getElementById('player-close').addEventListener('click', function () {
    shownPlayer = null;
    document.getElementById('player-view').classList.add('hidden');
    if (location.hash.indexOf('#player=') === 0) { history.replaceState(null, '', location.pathname); }
  });

  function showPlayer(token) {
    shownPlayer = token;
    if (location.hash !== '#player=' + encodeURIComponent(token)) {
      history.replaceState(null, '', '#player=' + encodeURIComponent(token));
    }
    var view = document.getElementById('player-view');
    view.classList.remove('hidden');
    view.setAttribute('data-token', token);
    document.getElementById('player-token').textContent = token;
    loadPlayer();
  }

  function loadPlayer() {
    var token = shownPlayer;
    if (token === null) { return Promise.resolve(); }
    return request('GET', '/api/players/' + encodeURIComponent(token)).then(function (answer) {
      if (token !== shownPlayer) { return; }
      renderPlayer(answer);
    }).catch(function (e) {
      document.getElementById('player-body').replaceChildren(el('div', { 'class': 'status error', text: e.message }));
    });
  }

  function renderPlayer(p) {
    var body = document.getElementById('player-body');
    var view = document.getElementById('player-view');
    view.setAttribute('data-known', String(p.known));
    document.getElementById('player-updated').textContent = ' · as of ' + clock(p.generatedAt);
    var parts = [];
    if (!p.known) {
      parts.push(el('div', { 'class': 'empty unknown', text: p.message }));
    }
    p.services.forEach(function (s) {
      var facts = el('div', { 'class': 'facts' }, [
        el('span', {}, [el('b', { text: 'owner' }), s.owner ? s.owner : 'none (not linked)']),
        el('span', {}, [el('b', { text: 'link epoch' }), String(s.epoch)]),
        s.ownerState ? el('span', {}, [el('b', { text: 'owner state' }), el('span', { 'class': 'badge ' + s.ownerState, text: s.ownerState })]) : null,
        s.servesPlayers ? el('span', { 'class': 'active-fact' }, [el('b', { text: 'active on owner' }),
          s.ownerReachable ? (s.active ? 'yes, epoch ' + s.activeEpoch : 'no (activated on its next call)') : 'owner did not answer']) : null,
        s.servesPlayers && s.laneWaiting !== null ? el('span', {}, [el('b', { text: 'lane' }), s.laneWaiting + ' waiting']) : null
      ]);
      var calls = el('table', { 'class': 'grid calls' }, [
        el('thead', {}, [el('tr', {}, ['time', 'node', 'method', 'latency ms', 'code'].map(function (h, i) {
          return el('th', { 'class': i === 3 ? 'num' : '', text: h }); }))]),
        el('tbody', {}, s.calls.length ? s.calls.slice().reverse().map(function (c) {
          return el('tr', { 'class': 'player-call', 'data-method': c.method, 'data-code': c.code }, [
            el('td', { text: clockMs(c.at) }), el('td', { text: c.node }), el('td', { text: c.method }),
            el('td', { 'class': 'num', text: fixed(c.latencyMs, 2) }),
            el('td', { 'class': c.code === 'OK' ? '' : 'code-bad', text: c.code })]);
        }) : [el('tr', {}, [el('td', { 'class': 'empty', colspan: '5', text: 'no calls recorded' })])])
      ]);
      var moves = el('table', { 'class': 'grid moves' }, [
        el('thead', {}, [el('tr', {}, ['time', 'node', 'move', 'reason', ''].map(function (h) { return el('th', { text: h }); }))]),
        el('tbody', {}, s.moves.length ? s.moves.slice().reverse().map(function (m) {
          return el('tr', { 'class': 'player-move', 'data-kind': m.kind, 'data-reason': m.reason, 'data-node': m.node }, [
            el('td', { text: clockMs(m.at) }), el('td', { text: m.node }), el('td', { text: m.kind }),
            el('td', {}, [el('span', { 'class': 'kind', text: m.reason })]), el('td', { 'class': 'dim', text: m.detail })]);
        }) : [el('tr', {}, [el('td', { 'class': 'empty', colspan: '5', text: 'no moves recorded' })])])
      ]);
      parts.push(el('div', { 'class': 'player-service', 'data-service': s.service, 'data-owner': s.owner || '' }, [
        el('h3', { text: s.service }), facts,
        el('div', { 'class': 'subgrid' }, [
          el('div', {}, [el('div', { 'class': 'dim small', text: 'last calls on its nodes, newest first' }), calls]),
          el('div', {}, [el('div', { 'class': 'dim small', text: 'moves (hand-overs, relinks, deactivations), newest first' }), moves])])
      ]));
    });
    p.contributed.forEach(function (c) {
      parts.push(el('div', { 'class': 'contributed', 'data-node': c.node }, [
        el('h3', { text: c.service + ' · ' + c.node }),
        el('div', { 'class': 'facts' }, Object.keys(c.extra).map(function (k) {
          return el('span', { 'class': 'extra', 'data-key': k }, [el('b', { text: k }), String(c.extra[k])]);
        }))]));
    });
    p.unreachable.forEach(function (u) {
      parts.push(el('div', { 'class': 'status error', text: u.node + ' did not answer: ' + u.error }));
    });
    body.replaceChildren.apply(body, parts);
  }

  // ---- timeline ----
  var timelineEvents = [];

  function renderTimeline(answer) {
    timelineEvents = answer.events;
    var kindSelect = document.getElementById('timeline-kind');
    var nodeSelect = document.getElementById('timeline-node');
    fillOptions(kindSelect, timelineEvents.map(function (e) { return e.kind; }));
    fillOptions(nodeSelect, timelineEvents.map(function (e) { return e.node; }));
    var kind = kindSelect.value, node = nodeSelect.value;
    var shown = timelineEvents.filter(function (e) {
      return (!kind || e.kind === kind) && (!node || e.node === node);
    });
    var body = document.querySelector('#timeline tbody');
    body.replaceChildren.apply(body, shown.length ? shown.slice(0, 300).map(function (e) {
      return el('tr', { 'class': 'event', 'data-kind': e.kind, 'data-node': e.node,
          'data-phase': (e.fields && e.fields.phase) || '', title: JSON.stringify(e.fields) }, [
        el('td', { 'class': 'dim', text: clockMs(e.at) }),
        el('td', { text: e.node }),
        el('td', {}, [el('span', { 'class': 'kind ' + e.kind, text: e.kind })]),
        el('td', { 'class': 'text', text: e.text })]);
    }) : [el('tr', {}, [el('td', { 'class': 'empty', colspan: '4', text: 'nothing happened yet' })])]);
    document.getElementById('timeline-count').textContent = shown.length + ' of ' + timelineEvents.length + ' events' +
      (answer.unreachable.length ? ' · not answering: ' + answer.unreachable.map(function (u) { return u.node; }).join(', ') : '');
  }

  function fillOptions(select, values) {
    var have = {};
    Array.prototype.forEach.call(select.options, function (o) { have[o.value] = true; });
    values.slice().sort().forEach(function (v) {
      if (!have[v]) { have[v] = true; select.appendChild(el('option', { value: v, text: v })); }
    });
  }

  ['timeline-kind', 'timeline-node'].forEach(function (id) {
    document.getElementById(id).addEventListener('change', function () {
      renderTimeline({ events: timelineEvents, unreachable: [] });
    });
  });

  document.getElementById('auth').addEventListener('submit', function (event) {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById('auth-token').value);
    document.getElementById('auth').classList.add('hidden');
    refresh();
  });

  function refresh() {
    clearTimeout(timer);
    Promise.all([request('GET', '/api/cluster'), request('GET', '/api/topics'), request('GET', '/api/timeline'),
      loadPlayer()]).then(function (answers) {
      var cluster = answers[0];
      refreshMs = cluster.refreshMs || refreshMs;
      var typing = document.activeElement && document.activeElement.classList.contains('weight');
      if (!typing) { renderServices(cluster); } // do not replace a weight the operator is typing
      renderMethods(cluster);
      renderTopics(answers[1]);
      renderTimeline(answers[2]);
      document.body.setAttribute('data-updated', String(cluster.generatedAt));
      setStatus('seen from ' + cluster.self + ' · updated ' + new Date(cluster.generatedAt).toLocaleTimeString(), false);
    }).catch(function (e) {
      setStatus(e.message, true);
    }).then(function () {
      timer = setTimeout(refresh, refreshMs);
    });
  }

  if (location.hash.indexOf('#player=') === 0) {
    var fromHash = decodeURIComponent(location.hash.substring('#player='.length));
    document.getElementById('lookup-token').value = fromHash;
    showPlayer(fromHash);
  }
  refresh();
})();
