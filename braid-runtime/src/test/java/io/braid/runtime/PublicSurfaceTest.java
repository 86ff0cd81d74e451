package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What users can see of braid, and who may import what (braid-runtime's README, "Public surface
 * and imports"). Reads the main sources of the modules beside this one ({@code ../braid-*} and
 * {@code ../examples}, relative to the module directory the build runs tests in).
 *
 * <ol>
 *   <li>The public top-level types outside {@code .internal} packages are exactly {@link #PUBLIC}:
 *       adding one is a deliberate change of this list, reviewed like any API change.</li>
 *   <li>A module's main code names no other module's {@code .internal} package except the shared
 *       kernels ({@code io.braid.api.internal}, {@code io.braid.redis.internal}); braid-runtime,
 *       the assembler, may also construct other modules' implementations. examples name no
 *       {@code .internal} package at all.</li>
 * </ol>
 */
class PublicSurfaceTest {
    /** The public API, sorted. */
    private static final List<String> PUBLIC = List.of(
            "io.braid.api.AsyncHandler",
            "io.braid.api.BraidException",
            "io.braid.api.CallContext",
            "io.braid.api.CallOptions",
            "io.braid.api.Channel",
            "io.braid.api.ChannelOptions",
            "io.braid.api.Client",
            "io.braid.api.ClientInterceptor",
            "io.braid.api.ClientStream",
            "io.braid.api.Code",
            "io.braid.api.Codec",
            "io.braid.api.DeadLetter",
            "io.braid.api.Deadline",
            "io.braid.api.Discover",
            "io.braid.api.DiscoverEvent",
            "io.braid.api.Elector",
            "io.braid.api.Handler",
            "io.braid.api.IncomingCall",
            "io.braid.api.Link",
            "io.braid.api.LinkCache",
            "io.braid.api.Message",
            "io.braid.api.MessageHandler",
            "io.braid.api.Node",
            "io.braid.api.NodeState",
            "io.braid.api.OutgoingCall",
            "io.braid.api.Player",
            "io.braid.api.PlayerHandler",
            "io.braid.api.PlayerStates",
            "io.braid.api.PlayerStore",
            "io.braid.api.Pubsub",
            "io.braid.api.Role",
            "io.braid.api.Server",
            "io.braid.api.ServerInterceptor",
            "io.braid.api.StreamHandler",
            "io.braid.api.StreamReader",
            "io.braid.api.StreamWriter",
            "io.braid.api.Subscription",
            "io.braid.api.Ticker",
            "io.braid.api.Topic",
            "io.braid.gateway.Gateway",
            "io.braid.gateway.GatewayPush",
            "io.braid.gateway.LoginHook",
            "io.braid.gateway.RouteTable",
            "io.braid.gateway.SessionEvent",
            "io.braid.gateway.client.ClientEvent",
            "io.braid.gateway.client.ClientStats",
            "io.braid.gateway.client.GatewayClient",
            "io.braid.gateway.client.PushListener",
            "io.braid.gateway.client.SessionInfo",
            "io.braid.gateway.client.Transport",
            "io.braid.monitor.MonitorOptions",
            "io.braid.monitor.TracePlayers",
            "io.braid.redis.RedisConnector",
            "io.braid.redis.RedisTls",
            "io.braid.runtime.Braid",
            "io.braid.runtime.InMemoryControlPlane",
            "io.braid.runtime.Players");

    /** The modules whose main code is library code (bench, chaos and testkit measure and prove internals). */
    private static final List<String> LIBRARY_MODULES = List.of("braid-api", "braid-rpc", "braid-redis",
            "braid-discover", "braid-elector", "braid-linkcache", "braid-pubsub", "braid-monitor", "braid-runtime",
            "braid-gateway");

    /** Internal packages every module may use: JDK/api-only contracts and helpers, and the Redis plumbing. */
    private static final Set<String> KERNELS = Set.of("io.braid.api.internal", "io.braid.redis.internal");

    private static final Pattern PUBLIC_TYPE = Pattern.compile(
            "^public (?:(?:final|abstract|sealed|non-sealed|static|strictfp) )*(?:class|interface|record|enum|@interface) ",
            Pattern.MULTILINE);
    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
    /** Any mention of an internal package, in an import or written out in the code. */
    private static final Pattern INTERNAL_NAME = Pattern.compile("\\bio\\.braid\\.(\\w+)\\.internal\\b");

    @Test
    void thePublicTypesOutsideInternalPackagesAreTheReviewedList() {
        List<String> found = new ArrayList<>();
        for (String module : LIBRARY_MODULES) {
            for (Path file : mainSources(module)) {
                String source = read(file);
                String pkg = packageOf(source, file);
                if (!pkg.contains(".internal") && PUBLIC_TYPE.matcher(source).find()) {
                    found.add(pkg + "." + file.getFileName().toString().replace(".java", ""));
                }
            }
        }
        found.sort(null);
        assertThat(found).as("public top-level types outside .internal (%s of them)", found.size())
                .containsExactlyElementsOf(PUBLIC);
    }

    @Test
    void modulesUseNoOtherModulesInternalsButTheKernels() {
        List<String> offences = new ArrayList<>();
        for (String module : LIBRARY_MODULES) {
            if (module.equals("braid-runtime")) {
                continue; // the assembler constructs the other modules' implementations
            }
            String own = "io.braid." + module.substring("braid-".length()) + ".internal";
            for (Path file : mainSources(module)) {
                Matcher names = INTERNAL_NAME.matcher(read(file));
                while (names.find()) {
                    String used = names.group();
                    if (!used.equals(own) && !KERNELS.contains(used)) {
                        offences.add(module + ": " + file.getFileName() + " uses " + used);
                    }
                }
            }
        }
        assertThat(offences).as("cross-module internal imports").isEmpty();
    }

    @Test
    void examplesUsePublicApiOnly() {
        List<String> offences = new ArrayList<>();
        for (Path file : mainSources("examples")) {
            Matcher names = INTERNAL_NAME.matcher(read(file));
            while (names.find()) {
                offences.add(file.getFileName() + " uses " + names.group());
            }
        }
        assertThat(offences).as("examples naming internals").isEmpty();
    }

    private static List<Path> mainSources(String module) {
        Path root = repository().resolve(module).resolve("src/main/java");
        assertThat(root).as("main sources of %s", module).isDirectory();
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(f -> f.toString().endsWith(".java"))
                    .filter(f -> !f.getFileName().toString().equals("package-info.java")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The repository root: the parent of this module's directory, where the build runs its tests. */
    private static Path repository() {
        Path here = Path.of("").toAbsolutePath();
        Path root = Files.isDirectory(here.resolve("braid-api")) ? here : here.getParent();
        assertThat(root.resolve("braid-api")).as("the repository root above %s", here).isDirectory();
        return root;
    }

    private static String packageOf(String source, Path file) {
        Matcher pkg = PACKAGE.matcher(source);
        assertThat(pkg.find()).as("package declaration of %s", file).isTrue();
        return pkg.group(1);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
