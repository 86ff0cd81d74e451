package io.braid.examples;

import io.braid.examples.bots.Bots;
import io.braid.examples.chat.ChatService;
import io.braid.examples.gateway.GatewayService;
import io.braid.examples.logic.LogicService;
import io.braid.examples.monitor.MonitorService;
import java.util.List;
import java.util.Optional;

/**
 * The examples' one entry point: {@code java -jar braid-examples.jar <command> [flags]} with
 * command {@code demo} (everything in one JVM), {@code gateway}, {@code logic}, {@code chat},
 * {@code monitor} or {@code bots} (each as its own process). Every flag has an environment variable standing in for
 * it; {@code <command> --help} lists them.
 */
public final class Main {
    /** A command: its name, what it does, the settings it reads, and its main method. */
    public record Command(String name, String description, List<Setting> settings, EntryPoint entryPoint) {
    }

    @FunctionalInterface
    public interface EntryPoint {
        void main(String[] args) throws Exception;
    }

    public static final List<Command> COMMANDS = List.of(
            new Command("demo", "gateways (--gateways N), 3 logic nodes, chat and the bots in one JVM, then a summary",
                    Demo.SETTINGS, Demo::main),
            new Command(GatewayService.SERVICE, "a gateway (braid-gateway, WebSocket) and the player page", GatewayService.SETTINGS,
                    GatewayService::main),
            new Command(LogicService.SERVICE, "a logic node holding player state", LogicService.SETTINGS,
                    LogicService::main),
            new Command(ChatService.SERVICE, "the chat service (world chat over pub-sub)", ChatService.SETTINGS,
                    ChatService::main),
            new Command(MonitorService.SERVICE, "a node serving the cluster dashboard", MonitorService.SETTINGS,
                    MonitorService::main),
            new Command("bots", "the load generator: simulated players, braid-gateway clients that resume their sessions", Bots.SETTINGS, Bots::main));

    private Main() {
    }

    public static Optional<Command> command(String name) {
        return COMMANDS.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            System.out.println("usage: <command> [--flag value ...]; <command> --help lists its flags\ncommands:");
            COMMANDS.forEach(c -> System.out.printf("  %-8s %s%n", c.name(), c.description()));
            return;
        }
        Command command = command(args[0]).orElse(null);
        if (command == null) {
            System.err.println("unknown command '" + args[0] + "'; one of "
                    + COMMANDS.stream().map(Command::name).toList());
            System.exit(2);
            return;
        }
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        if (List.of(rest).contains("--help") || List.of(rest).contains("-h")) {
            System.out.println(command.name() + ": " + command.description() + "\nflags and environment variables:\n"
                    + Settings.usage(command.settings()));
            return;
        }
        try {
            command.entryPoint().main(rest);
        } catch (IllegalArgumentException e) {
            System.err.println(command.name() + ": " + e.getMessage());
            System.exit(2);
        }
    }
}
