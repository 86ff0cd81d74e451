package io.braid.gateway;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which routes a client may call through the gateway. A route is {@code service.method}: the
 * service name up to the first dot, the method after it ({@code logic.player.act} calls method
 * {@code player.act} of service {@code logic}). A route not in the table is refused: the client
 * gets a Reply with code NOT_FOUND naming the route, and nothing is called. {@link #none()} (the
 * default) refuses everything. Immutable and thread-safe.
 */
public final class RouteTable {
    private static final Pattern ROUTE = Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_.-]+");
    private static final RouteTable NONE = new RouteTable(Map.of());

    private final Map<String, Route> routes;

    private RouteTable(Map<String, Route> routes) {
        this.routes = routes;
    }

    /** A service and method a client may call. */
    public record Route(String service, String method) {
    }

    /** The table that refuses every route. */
    public static RouteTable none() {
        return NONE;
    }

    /**
     * A table allowing exactly these routes.
     *
     * @throws IllegalArgumentException for a route that is not {@code service.method} (letters,
     *     digits, '_', '-', and dots in the method)
     */
    public static RouteTable of(String... routes) {
        Map<String, Route> table = new LinkedHashMap<>();
        for (String route : routes) {
            table.put(route, parse(route));
        }
        return new RouteTable(Map.copyOf(table));
    }

    /** The route, if this table allows it; empty for any other name (including null). */
    public Optional<Route> resolve(String route) {
        return route == null ? Optional.empty() : Optional.ofNullable(routes.get(route));
    }

    /** The allowed route names. */
    public Set<String> routes() {
        return routes.keySet();
    }

    private static Route parse(String route) {
        if (route == null || !ROUTE.matcher(route).matches()) {
            throw new IllegalArgumentException("a route is 'service.method' (letters, digits, '_', '-'; dots in the"
                    + " method), was " + (route == null ? "null" : "'" + route + "'"));
        }
        int dot = route.indexOf('.');
        return new Route(route.substring(0, dot), route.substring(dot + 1));
    }

    @Override
    public String toString() {
        return "RouteTable" + routes.keySet();
    }
}
