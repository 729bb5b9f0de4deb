package io.github.muon4j.train;

import com.google.gson.JsonObject;
import io.github.muon4j.optim.MuonDiagnostics;
import java.util.Map;

/**
 * The theory's diagnostics for the metrics log: per Muon parameter the update RMS and spectral norm
 * (bounded by lr * scale * max singular value of the Newton-Schulz output, whatever the gradient),
 * and the orthogonality error of Newton-Schulz for the parameter chosen.
 */
final class Diagnostics {

    private Diagnostics() {}

    static JsonObject toJson(Map<String, MuonDiagnostics> byName) {
        JsonObject o = new JsonObject();
        double maxRms = 0;
        for (MuonDiagnostics d : byName.values()) {
            JsonObject p = new JsonObject();
            p.addProperty("update_rms", d.updateRms());
            if (Double.isFinite(d.spectralNorm())) {
                p.addProperty("update_spectral_norm", d.spectralNorm());
            }
            if (Double.isFinite(d.orthogonalityError())) {
                p.addProperty("orthogonality_error", d.orthogonalityError());
            }
            o.add(d.parameter(), p);
            maxRms = Math.max(maxRms, d.updateRms());
        }
        o.addProperty("max_update_rms", maxRms);
        return o;
    }
}
