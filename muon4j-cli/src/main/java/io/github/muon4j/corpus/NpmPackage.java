package io.github.muon4j.corpus;

import io.github.muon4j.data.DataException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;

/**
 * One pinned npm package tarball: its name, version and the registry's {@code integrity} string
 * (Subresource Integrity form, {@code sha512-} and the base64 digest), as {@code npm view
 * NAME@VERSION dist.integrity} prints it.
 */
record NpmPackage(String name, String version, String integrity) {

    /** The tarball's address under a registry: {@code REGISTRY/NAME/-/BASENAME-VERSION.tgz}. */
    URI tarball(URI registry) {
        String base = registry.toString().replaceAll("/+$", "");
        String file = name.substring(name.indexOf('/') + 1) + "-" + version + ".tgz";
        return URI.create(base + "/" + name + "/-/" + file);
    }

    /**
     * Downloads the tarball; a failure names its cause (the message, or the exception's kind when
     * it has none).
     */
    byte[] download(URI registry) throws IOException {
        HttpClient http =
                HttpClient.newBuilder()
                        .followRedirects(HttpClient.Redirect.NORMAL)
                        .connectTimeout(Duration.ofSeconds(30))
                        .build();
        HttpRequest get =
                HttpRequest.newBuilder(tarball(registry))
                        .timeout(Duration.ofMinutes(10))
                        .GET()
                        .build();
        try {
            HttpResponse<byte[]> r = http.send(get, HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200) {
                throw new IOException("HTTP " + r.statusCode());
            }
            return r.body();
        } catch (IOException e) {
            throw e.getMessage() == null || e.getMessage().isBlank()
                    ? new IOException(e.getClass().getSimpleName(), e)
                    : e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** Refuses bytes whose SHA-512 is not the pinned one, naming both. */
    void verify(byte[] tarball, String what) {
        String actual = "sha512-" + Base64.getEncoder().encodeToString(sha512(tarball));
        if (!actual.equals(integrity)) {
            throw new DataException(
                    what
                            + ": "
                            + name
                            + " "
                            + version
                            + " tarball fails its integrity check: expected "
                            + integrity
                            + ", got "
                            + actual
                            + " (nothing cached)");
        }
    }

    private static byte[] sha512(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-512").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
