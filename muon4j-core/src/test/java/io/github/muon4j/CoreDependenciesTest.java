package io.github.muon4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a project that depends on muon4j-core gets on its classpath: Maven's own resolution of the
 * core's compile and runtime dependencies. A library brings no logging backend, no CLI parser, no
 * corpus and no PyTorch native library: the user picks those.
 */
class CoreDependenciesTest {

    @Test
    void aConsumerOfCoreGetsNoLoggingBackendNoCliParserNoCorpusAndNoNativeLibrary(@TempDir Path tmp)
            throws Exception {
        Path pom = Path.of("muon4j-core", "pom.xml");
        assumeTrue(Files.exists(pom), "run from the repository root (Maven's surefire does so)");
        assumeTrue(
                onPath("mvn"),
                "mvn is not on the PATH, so the dependency tree cannot be resolved here");
        Path list = tmp.resolve("deps.txt");
        Process p =
                new ProcessBuilder(
                                "mvn",
                                "-B",
                                "-q",
                                "-f",
                                pom.toString(),
                                "dependency:list",
                                "-DincludeScope=runtime",
                                "-DoutputFile=" + list,
                                "-DexcludeTransitive=false")
                        .redirectErrorStream(true)
                        .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "mvn dependency:list timed out");
        assertEquals(0, p.exitValue(), out);
        List<String> deps =
                Files.readAllLines(list).stream()
                        .map(String::strip)
                        .filter(l -> l.matches("[\\w.-]+:[\\w.-]+:.*"))
                        .collect(Collectors.toList());
        assertTrue(
                deps.stream().anyMatch(d -> d.startsWith("ai.djl:api:")),
                "DJL's API is a dependency: " + deps);
        assertTrue(
                deps.stream().anyMatch(d -> d.startsWith("ai.djl.pytorch:pytorch-engine:")),
                "the engine is a dependency: " + deps);
        for (String d : deps) {
            assertTrue(
                    !d.startsWith("org.slf4j:slf4j-simple:")
                            && !d.startsWith("ch.qos.logback:")
                            && !d.startsWith("org.apache.logging.log4j:log4j-slf4j")
                            && !d.startsWith("org.slf4j:slf4j-reload4j:"),
                    "a logging backend on a library user's classpath: " + d);
            assertTrue(
                    !d.startsWith("info.picocli:"),
                    "a CLI parser on a library user's classpath: " + d);
            assertTrue(
                    !d.startsWith("org.apache.lucene:"),
                    "the built-in corpus on a library user's classpath: " + d);
            assertTrue(
                    !d.startsWith("ai.djl.pytorch:pytorch-native-"),
                    "a PyTorch native library forced on users: " + d);
            assertTrue(
                    d.endsWith(":compile")
                            || d.endsWith(":runtime")
                            || d.contains(":compile ")
                            || d.contains(":runtime "),
                    "only compile/runtime scopes are listed: " + d);
        }
    }

    private static boolean onPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, exe))) {
                return true;
            }
        }
        return false;
    }
}
