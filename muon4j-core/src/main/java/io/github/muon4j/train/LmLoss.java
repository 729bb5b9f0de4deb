package io.github.muon4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.training.loss.Loss;
import io.github.muon4j.model.Autocast;
import io.github.muon4j.model.Tensors;

/**
 * Next-token cross-entropy of a language model, as a DJL {@link Loss} (for DJL's {@code Trainer}
 * and {@code EasyTrain.fit}) and as the static functions muon4j's own step uses.
 *
 * <p>As a {@code Loss}: labels are the (B, T) next tokens; predictions are what {@link
 * io.github.muon4j.model.DecoderLM} returns, (B, T, V) logits and, when present, the scalar MoE
 * balancing loss, which is added (it is part of what the model is trained on).
 */
public final class LmLoss extends Loss {

    /** The loss under the name "LmLoss". */
    public LmLoss() {
        this("LmLoss");
    }

    /** The loss under {@code name} (the key of DJL's training listeners). */
    public LmLoss(String name) {
        super(name);
    }

    /**
     * @param labels (B, T) next-token ids
     * @param predictions (B, T, V) logits, then optionally a scalar auxiliary loss
     * @return the mean cross-entropy plus the auxiliary loss: a scalar
     */
    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDArray ce = crossEntropy(predictions.get(0), labels.head());
        return predictions.size() > 1 ? ce.add(predictions.get(1)) : ce;
    }

    /**
     * Mean negative log-likelihood of {@code targets} under {@code logits}.
     *
     * @param logits (B, T, V) float
     * @param targets (B, T) integer token ids
     * @return scalar loss, attached to the logits' manager
     */
    public static NDArray crossEntropy(NDArray logits, NDArray targets) {
        NDArray logp = logits.logSoftmax(-1); //                         (B, T, V)
        NDArray picked =
                logp.gather(targets.toType(DataType.INT64, false).expandDims(-1), -1); // (B, T, 1)
        return picked.mean().neg();
    }

    /**
     * The loss of {@link #fusedHead}: its value, and a scalar whose gradient is the loss's.
     *
     * @param loss the mean cross-entropy (no gradient attached)
     * @param surrogate differentiate this (its value is not the loss): its gradient with respect to
     *     the hidden states and the head weight is the gradient of the loss
     */
    public record HeadLoss(NDArray loss, NDArray surrogate) {}

    /**
     * LM head and cross-entropy together, {@code chunk} tokens at a time, so the (B, T, V) logits
     * and their gradient are never held at once: a chunk's logits live only until its share of the
     * gradient has been computed.
     *
     * <p>With N tokens, h_i the normed hidden state, W the head (V, d), p_i = softmax(W h_i) and
     * y_i the target: loss = (1/N) sum_i (lse(W h_i) - W[y_i] . h_i). The gradient of the first
     * term is dL/dh_i = p_i W / N and dL/dW = sum_i p_i h_i^T / N; both are computed here per chunk
     * without autograd, and handed to autograd as constants in
     *
     * <pre>
     *   surrogate = sum(h * dh) + sum(W * dW) - (1/N) sum_i W[y_i] . h_i
     * </pre>
     *
     * <p>whose gradient is the loss's (the last term, a row gather, is the one-hot part of the
     * softmax gradient). FLOPs equal the plain head's: 3 products of 2 N d V. Loss and gradients
     * equal {@link #crossEntropy} of {@code h W^T} to float32 rounding (a test checks 1e-5).
     *
     * @param h (B, T, d) normed hidden states, on the autograd graph
     * @param w (V, d) head weight (a parameter, or the tied embedding)
     * @param targets (B, T) integer token ids
     * @param chunk tokens per chunk, at least 1
     */
    public static HeadLoss fusedHead(NDArray h, NDArray w, NDArray targets, int chunk) {
        if (chunk < 1) {
            throw new IllegalArgumentException("chunk must be at least 1, got " + chunk);
        }
        NDManager m = h.getManager();
        long d = h.getShape().get(h.getShape().dimension() - 1);
        long n = h.size() / d;
        NDArray y = targets.toType(DataType.INT64, false).reshape(n); //     (N)
        NDArray hd = h.stopGradient().reshape(n, d); //                     (N, d), no gradient
        // every array made here goes to h's manager (the step's); an op's result lands in the
        // manager of its first operand, so w (the model's manager) never comes first
        NDArray wd = in(w.stopGradient(), m); //                           (V, d)
        NDArray wt = wd.transpose(); //                                     (d, V) view
        NDList dh = new NDList();
        NDArray dw = null;
        NDArray nll = null;
        for (long s = 0; s < n; s += chunk) {
            long e = Math.min(n, s + chunk);
            try (NDManager cm = m.newSubManager()) {
                NDArray hc = in(hd.get(s + ":" + e), cm); //                 (c, d)
                NDArray yc = in(y.get(s + ":" + e), cm).expandDims(1); //    (c, 1)
                NDArray logits = in(Autocast.matMul(hc, wt), cm); //               (c, V)
                NDArray p = in(logits.softmax(1), cm); //                          (c, V)
                NDArray picked = in(targetNll(logits, p, yc), cm); //  sum of -log p[y]
                logits.close();
                NDArray dhc = Autocast.matMul(p, wd); //                               (c, d)
                dhc.attach(m);
                dh.add(dhc);
                NDArray dwc = in(Autocast.matMul(p.transpose(), hc), cm); //           (V, d)
                if (dw == null) {
                    dw = dwc;
                    dw.attach(m);
                } else {
                    dw.addi(dwc);
                }
                if (nll == null) {
                    nll = picked;
                    nll.attach(m);
                } else {
                    nll.addi(picked);
                }
            }
        }
        float inv = (float) (1.0 / n);
        NDArray dH =
                (dh.size() == 1 ? dh.get(0) : ai.djl.ndarray.NDArrays.concat(dh, 0))
                        .reshape(h.getShape())
                        .muli(inv);
        dw.muli(inv);
        NDArray loss = nll.muli(inv);
        NDArray target =
                in(
                        Embedding.embedding(
                                        y.reshape(
                                                h.getShape()
                                                        .slice(0, h.getShape().dimension() - 1)),
                                        w,
                                        SparseFormat.DENSE)
                                .singletonOrThrow(),
                        m); //           (B, T, d) rows W[y]
        NDArray surrogate =
                h.mul(dH)
                        .sum()
                        .add(dw.mul(w).sum())
                        .sub(Tensors.scale(target.mul(h).sum(), 1.0 / n));
        return new HeadLoss(loss, surrogate);
    }

    /**
     * The smallest target probability whose log is taken from the softmax: when a chunk has a
     * target below it (log p[y] < -69), that chunk's -log p[y] comes from log_softmax, exactly.
     */
    static final float TINY_TARGET_PROBABILITY = 1e-30f;

    /**
     * sum over rows of -log p[y]: from the softmax p when every p[y] is at least {@link
     * #TINY_TARGET_PROBABILITY} (one gather, no extra pass over the (c, V) rows), otherwise from
     * log_softmax of the logits, so a target the model has all but ruled out still counts exactly.
     *
     * @param logits (c, V); p = softmax(logits) (c, V); yc (c, 1) target ids
     * @return a scalar, in p's manager
     */
    private static NDArray targetNll(NDArray logits, NDArray p, NDArray yc) {
        NDArray py = p.gather(yc, 1); //                                          (c, 1)
        if (py.min().getFloat() >= TINY_TARGET_PROBABILITY) {
            return py.log().sum().neg();
        }
        try (NDArray logp = logits.logSoftmax(1)) {
            NDArray picked = logp.gather(yc, 1).sum().neg();
            picked.attach(p.getManager());
            return picked;
        }
    }

    private static NDArray in(NDArray a, NDManager m) {
        a.attach(m);
        return a;
    }
}
