package io.braid.runtime;

import java.lang.reflect.Proxy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGTERM and SIGINT as events rather than JVM exits, so {@link Braid#run()} can drain and return
 * normally (exit code 0). Uses the JDK's {@code sun.misc.Signal} (module jdk.unsupported), looked
 * up reflectively because javac cannot silence its warning; where it is missing, the JVM's default
 * handling (shutdown hooks, exit 143) applies and this says so.
 */
final class Signals {
    private static final Logger log = LoggerFactory.getLogger(Signals.class);

    private Signals() {
    }

    /**
     * Calls {@code onSignal} with the signal's name on each SIGTERM or SIGINT until the returned
     * handle is closed, which puts back the handlers that were there before. Where signals cannot be
     * handled, says so and returns a handle that does nothing.
     */
    static AutoCloseable onTermination(java.util.function.Consumer<String> onSignal) {
        try {
            Class<?> signalType = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            Object handler = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handlerType},
                    (proxy, method, args) -> {
                        if (method.getName().equals("handle")) {
                            onSignal.accept(String.valueOf(signalType.getMethod("getName").invoke(args[0])));
                            return null;
                        }
                        return switch (method.getName()) {
                            case "hashCode" -> System.identityHashCode(proxy);
                            case "equals" -> proxy == args[0];
                            case "toString" -> "braid signal handler";
                            default -> null;
                        };
                    });
            java.lang.reflect.Method handle = signalType.getMethod("handle", signalType, handlerType);
            java.util.Map<Object, Object> previous = new java.util.LinkedHashMap<>();
            for (String name : new String[] {"TERM", "INT"}) {
                Object signal = signalType.getConstructor(String.class).newInstance(name);
                previous.put(signal, handle.invoke(null, signal, handler));
            }
            return () -> {
                for (java.util.Map.Entry<Object, Object> entry : previous.entrySet()) {
                    handle.invoke(null, entry.getKey(), entry.getValue());
                }
            };
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("cannot handle SIGTERM/SIGINT here ({}); the JVM's default handling applies", e.toString());
            return () -> { };
        }
    }
}
