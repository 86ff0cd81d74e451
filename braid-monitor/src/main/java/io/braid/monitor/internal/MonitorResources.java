package io.braid.monitor.internal;

import io.braid.api.Client;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import java.util.Objects;

/**
 * What a node lends its monitor's HTTP server and gathering (Lettuce's {@code ClientResources}
 * idea): the node's event loops, the server channel class that goes with them, and a client that
 * reaches one given node, its service {@code braid.node:<id>} being the node of that id (built by
 * the node over {@link NodeCaller#byNodeId}, no interceptors, no deadline propagation, one attempt).
 * The node owns all three and closes them after the monitor; the monitor never does.
 *
 * @param group         the node's event loops
 * @param serverChannel the server socket channel class for {@code group} (epoll or NIO)
 * @param nodes         the client for calling one node by id
 */
public record MonitorResources(EventLoopGroup group, Class<? extends ServerChannel> serverChannel, Client nodes) {
    public MonitorResources {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(serverChannel, "serverChannel");
        Objects.requireNonNull(nodes, "nodes");
    }
}
