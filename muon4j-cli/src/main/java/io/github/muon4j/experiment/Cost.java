package io.github.muon4j.experiment;

import ai.djl.ndarray.types.Shape;
import io.github.muon4j.data.Tokenizers;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.optim.ParamRole;
import io.github.muon4j.train.TrainConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a training run costs, counted the same way for both optimizers:
 *
 * <ul>
 *   <li>model FLOPs per token: forward and backward, {@link ModelConfig#flopsPerToken} (6 x active
 *       matrix parameters + attention scores);
 *   <li>Newton-Schulz FLOPs per optimizer step (Muon only): for every matrix Muon updates, with m =
 *       min(rows, cols) and n = max(rows, cols), each of the {@code ns} iterations costs A = X X^T
 *       (2 m^2 n), A A (2 m^3) and B X (2 m^2 n), so {@code ns (4 m^2 n + 2 m^3)}; an expert stack
 *       [E, rows, cols] is E matrices, every step (all experts, not only the active ones). AdamW's
 *       element-wise update (about 10 FLOPs per parameter) is left out of both arms;
 *   <li>total FLOPs = model FLOPs + Newton-Schulz FLOPs: what "compute" means in every report.
 * </ul>
 *
 * @param modelFlopsPerToken forward + backward FLOPs per trained token
 * @param nsFlopsPerStep Newton-Schulz FLOPs per optimizer step (0 for AdamW)
 * @param nonEmbeddingParams parameters other than the embedding and LM head
 * @param totalParams all parameters
 */
public record Cost(
        double modelFlopsPerToken,
        double nsFlopsPerStep,
        long nonEmbeddingParams,
        long totalParams) {

    /** Newton-Schulz iterations per Muon step (Run uses 5). */
    public static final int NS_STEPS = 5;

    /** FLOPs of {@code ns} Newton-Schulz iterations on one rows x cols matrix. */
    public static double nsFlops(long rows, long cols, int ns) {
        double m = Math.min(rows, cols), n = Math.max(rows, cols);
        return ns * (4 * m * m * n + 2 * m * m * m);
    }

    /** Newton-Schulz FLOPs of one step over the Muon parameters among {@code shapes}. */
    public static double nsFlopsPerStep(
            Map<String, Shape> shapes, Map<String, ParamRole> roles, int ns) {
        double f = 0;
        for (var e : shapes.entrySet()) {
            ParamRole r = roles.get(e.getKey());
            if (r == null || !r.isMuon()) {
                continue;
            }
            Shape s = e.getValue();
            int d = s.dimension();
            long matrices = d <= 2 ? 1 : s.size() / (s.get(d - 2) * s.get(d - 1));
            f += matrices * nsFlops(s.get(d - 2), s.get(d - 1), ns);
        }
        return f;
    }

    /**
     * Parameter shapes of a model built from {@code mc} (declared shapes; nothing is allocated).
     */
    public static Map<String, Shape> shapes(DecoderLM model) {
        Map<String, Shape> out = new LinkedHashMap<>();
        model.visitParams("", (name, spec) -> out.put(name, spec.parameter().getShape()));
        return out;
    }

    public static Cost of(ModelConfig mc, int seqLen, boolean muon) {
        DecoderLM model = new DecoderLM(mc);
        Map<String, ParamRole> roles = model.roles();
        Map<String, Shape> shapes = shapes(model);
        long total = 0, embedding = 0;
        for (var e : shapes.entrySet()) {
            total += e.getValue().size();
            ParamRole r = roles.get(e.getKey());
            if (r == ParamRole.EMBEDDING || r == ParamRole.HEAD) {
                embedding += e.getValue().size();
            }
        }
        double ns = muon ? nsFlopsPerStep(shapes, roles, NS_STEPS) : 0;
        return new Cost(mc.flopsPerToken(seqLen), ns, total - embedding, total);
    }

    public static Cost of(TrainConfig c) {
        return of(
                io.github.muon4j.train.ModelChoice.of(c, Tokenizers.byName(c.tokenizerOrDefault())),
                c.seqLen(),
                c.optimizer() == io.github.muon4j.train.OptimizerKind.MUON);
    }

    /** Model FLOPs after {@code tokens} tokens. */
    public double modelFlops(double tokens) {
        return modelFlopsPerToken * tokens;
    }

    /** Newton-Schulz FLOPs after {@code steps} optimizer steps. */
    public double nsFlops(double steps) {
        return nsFlopsPerStep * steps;
    }

    public double totalFlops(double steps, double tokens) {
        return modelFlops(tokens) + nsFlops(steps);
    }
}
