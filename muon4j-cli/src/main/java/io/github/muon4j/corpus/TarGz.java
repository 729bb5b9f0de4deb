package io.github.muon4j.corpus;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;

/**
 * The regular files of a gzipped ustar archive (what {@code npm pack} writes), by path. Each entry
 * is a 512-byte header (name in bytes 0-99, size in octal at 124-135, type at 156, name prefix at
 * 345-499) followed by the contents padded to 512 bytes; two zero blocks end the archive. Entries
 * other than regular files (directories, pax headers) are skipped.
 */
final class TarGz {

    private TarGz() {}

    static Map<String, byte[]> files(byte[] tgz) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (DataInputStream in =
                new DataInputStream(new GZIPInputStream(new ByteArrayInputStream(tgz), 1 << 16))) {
            byte[] header = new byte[512];
            while (true) {
                in.readFully(header);
                if (isZero(header)) {
                    return files;
                }
                String name = text(header, 0, 100);
                String prefix = text(header, 345, 155);
                String octal = text(header, 124, 12);
                long size = octal.isEmpty() ? 0 : Long.parseLong(octal, 8);
                byte type = header[156];
                if (size > Integer.MAX_VALUE - 8) {
                    throw new IOException(name + ": entry too large (" + size + " bytes)");
                }
                byte[] body = new byte[(int) size];
                in.readFully(body);
                in.skipNBytes((512 - size % 512) % 512);
                if (type == '0' || type == 0) {
                    files.put(prefix.isEmpty() ? name : prefix + "/" + name, body);
                }
            }
        }
    }

    private static String text(byte[] header, int off, int len) {
        int end = off;
        while (end < off + len && header[end] != 0) {
            end++;
        }
        return new String(header, off, end - off, StandardCharsets.UTF_8).strip();
    }

    private static boolean isZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }
}
