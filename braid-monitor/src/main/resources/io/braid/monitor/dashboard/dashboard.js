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
      var rows = service.nodes.map(function (n) { return nodeRow(n, maxLinks); });
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
        el('div', { 'class': 'legend', text: m.calls + ' calls, ' + m.errors + ' errors · solid: rate, dashed: p99' })
      ]);
    });
    root.replaceChildren.apply(root, cards.length ? cards : [el('div', { 'class': 'empty', text: 'no calls served yet' })]);
  }

  function chart(history) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 300 50');
    svg.setAttribute('preserveAspectRatio', 'none');
    if (!history || history.length < 2) { return svg; }
    var t0 = history[0][0], t1 = history[history.length - 1][0];
    var maxRate = Math.max.apply(null, history.map(function (s) { return s[1]; }).concat([1e-9]));
    var maxP99 = Math.max.apply(null, history.map(function (s) { return s[2]; }).concat([1e-9]));
    [[1, maxRate, 'rate-line'], [2, maxP99, 'p99-line']].forEach(function (spec) {
      var points = history.map(function (s) {
        var x = t1 === t0 ? 0 : 300 * (s[0] - t0) / (t1 - t0);
        var y = 48 - 46 * s[spec[0]] / spec[1];
        return x.toFixed(1) + ',' + y.toFixed(1);
      }).join(' ');
      var line = document.createElementNS(ns, 'polyline');
      line.setAttribute('points', points);
      line.setAttribute('class', spec[2]);
      svg.appendChild(line);
    });
    return svg;
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

  // ---- token lookup ----
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
  });

  document.getElementById('auth').addEventListener('submit', function (event) {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById('auth-token').value);
    document.getElementById('auth').classList.add('hidden');
    refresh();
  });

  function refresh() {
    clearTimeout(timer);
    Promise.all([request('GET', '/api/cluster'), request('GET', '/api/topics')]).then(function (answers) {
      var cluster = answers[0];
      refreshMs = cluster.refreshMs || refreshMs;
      var typing = document.activeElement && document.activeElement.classList.contains('weight');
      if (!typing) { renderServices(cluster); } // do not replace a weight the operator is typing
      renderMethods(cluster);
      renderTopics(answers[1]);
      document.body.setAttribute('data-updated', String(cluster.generatedAt));
      setStatus('seen from ' + cluster.self + ' · updated ' + new Date(cluster.generatedAt).toLocaleTimeString(), false);
    }).catch(function (e) {
      setStatus(e.message, true);
    }).then(function () {
      timer = setTimeout(refresh, refreshMs);
    });
  }

  refresh();
})();
