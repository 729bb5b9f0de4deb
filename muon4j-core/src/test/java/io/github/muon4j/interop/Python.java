package io.github.muon4j.interop;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs scripts/hf_forward.py when python3 with numpy (and regex) is present. */
final class Python {

    private static Boolean available;

    private Python() {}

    /** Whether python3 can import numpy and regex; prints why not, once. */
    static synchronized boolean available() {
        if (available == null) {
            try {
                Process p =
                        new ProcessBuilder("python3", "-c", "import numpy, regex")
                                .redirectErrorStream(true)
                                .start();
                available = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (IOException | InterruptedException e) {
                available = false;
            }
            if (!available) {
                System.out.println(
                        "python3 with numpy and regex not found: the numpy reader of scripts/hf_forward.py"
                                + " is skipped (the Java reader still runs)");
            }
        }
        return available;
    }

    /** Runs {@code hf_forward.py args...} and parses the JSON it prints. */
    static JsonObject run(String... args) throws IOException, InterruptedException {
        List<String> cmd =
                new ArrayList<>(List.of("python3", Path.of("scripts", "hf_forward.py").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(
                    "hf_forward.py " + String.join(" ", args) + " failed: " + out);
        }
        return JsonParser.parseString(out).getAsJsonObject();
    }
}
