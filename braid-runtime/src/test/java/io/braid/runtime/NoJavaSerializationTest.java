package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * "No Java serialization; no class loaded by name from the wire", kept true: the main sources of
 * every library module are scanned for Java serialization streams, classes made serializable on
 * purpose, and classes looked up by a name that is not a literal in the code. The compiled top-level
 * classes are checked too, so a class that becomes serializable through a supertype is caught.
 * Exceptions are serializable because {@code Throwable} is, and enums because {@code Enum} is; neither
 * is ever read from the wire (codes cross it as numbers), so those two are allowed.
 */
class NoJavaSerializationTest {
    /** The modules users put on their class path (examples, benchmarks and the chaos suite are not). */
    private static final List<String> LIBRARY_MODULES = List.of("braid-api", "braid-rpc", "braid-discover",
            "braid-elector", "braid-linkcache", "braid-pubsub", "braid-monitor", "braid-redis", "braid-runtime",
            "braid-testkit");

    private static final List<Pattern> FORBIDDEN = List.of(
            Pattern.compile("\\bObjectInputStream\\b"),
            Pattern.compile("\\bObjectOutputStream\\b"),
            Pattern.compile("\\bObjectInput\\b"),
            Pattern.compile("\\bExternalizable\\b"),
            Pattern.compile("\\bimplements\\b[^{]*\\bSerializable\\b"),
            Pattern.compile("\\bextends\\b[^{]*\\bSerializable\\b"),
            Pattern.compile("\\b(readObject|readResolve|writeReplace|readExternal)\\s*\\("),
            Pattern.compile("\\bXMLDecoder\\b"),
            Pattern.compile("\\bSerializationUtils\\b"),
            // Looking a class up by name is allowed only for a literal written in the code.
            Pattern.compile("\\bClass\\.forName\\s*\\((?!\\s*\")"),
            Pattern.compile("\\.loadClass\\s*\\((?!\\s*\")"),
            Pattern.compile("\\bfindClass\\s*\\((?!\\s*\")"));

    static List<String> violations(String fileName, String source) {
        List<String> found = new ArrayList<>();
        String[] lines = source.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            String trimmed = line.strip();
            if (trimmed.startsWith("//") || trimmed.startsWith("*") || trimmed.startsWith("/*")) {
                continue; // comments may name what they forbid
            }
            for (Pattern pattern : FORBIDDEN) {
                Matcher matcher = pattern.matcher(line);
                if (matcher.find()) {
                    found.add(fileName + ":" + (i + 1) + ": " + trimmed);
                }
            }
        }
        return found;
    }

    private static Path repositoryRoot() {
        Path here = Path.of("").toAbsolutePath();
        for (Path dir = here; dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("braid-api")) && Files.isRegularFile(dir.resolve("pom.xml"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no braid repository above " + here);
    }

    private static List<Path> mainSources() {
        Path root = repositoryRoot();
        List<Path> sources = new ArrayList<>();
        for (String module : LIBRARY_MODULES) {
            Path main = root.resolve(module).resolve("src/main/java");
            assertThat(main).as("main sources of " + module).isDirectory();
            try (Stream<Path> files = Files.walk(main)) {
                files.filter(f -> f.toString().endsWith(".java")).forEach(sources::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return sources;
    }

    @Test
    void theScanRecognisesWhatItForbids() {
        assertThat(violations("A.java", "var in = new java.io.ObjectInputStream(socket.getInputStream());")).hasSize(1);
        assertThat(violations("B.java", "final class Blob implements Cloneable, Serializable {")).hasSize(1);
        assertThat(violations("C.java", "Class<?> type = Class.forName(request.getType());")).hasSize(1);
        assertThat(violations("D.java", "Object o = loader.loadClass(name).getDeclaredConstructor().newInstance();"))
                .hasSize(1);
        assertThat(violations("E.java", "private Object readResolve() {")).hasSize(1);
        assertThat(violations("F.java", "Class<?> signal = Class.forName(\"sun.misc.Signal\");")).isEmpty();
        assertThat(violations("G.java", "// never an ObjectInputStream here")).isEmpty();
    }

    @Test
    void noLibrarySourceUsesJavaSerializationOrLoadsAClassByAName() throws IOException {
        List<Path> sources = mainSources();
        assertThat(sources).as("main sources found").hasSizeGreaterThan(50);
        List<String> found = new ArrayList<>();
        for (Path source : sources) {
            found.addAll(violations(repositoryRoot().relativize(source).toString(), Files.readString(source)));
        }
        assertThat(found).as("Java serialization or a class looked up by a computed name").isEmpty();
    }

    @Test
    void noCompiledLibraryClassIsSerializableButExceptionsAndEnums() throws IOException {
        List<String> serializable = new ArrayList<>();
        int checked = 0;
        for (Path source : mainSources()) {
            String text = Files.readString(source);
            Matcher pkg = Pattern.compile("(?m)^package\\s+([\\w.]+)\\s*;").matcher(text);
            if (!pkg.find()) {
                continue; // package-info without a package line
            }
            String simple = source.getFileName().toString().replace(".java", "");
            if (simple.equals("package-info") || simple.equals("module-info")) {
                continue;
            }
            Class<?> type;
            try {
                type = Class.forName(pkg.group(1) + "." + simple, false, getClass().getClassLoader());
            } catch (ClassNotFoundException notOnThisClassPath) {
                continue; // a module the runtime does not depend on
            }
            checked++;
            if (Serializable.class.isAssignableFrom(type) && !Throwable.class.isAssignableFrom(type) && !type.isEnum()) {
                serializable.add(type.getName());
            }
        }
        assertThat(checked).as("compiled classes checked").isGreaterThan(50);
        assertThat(serializable).as("serializable library classes").isEmpty();
    }
}
