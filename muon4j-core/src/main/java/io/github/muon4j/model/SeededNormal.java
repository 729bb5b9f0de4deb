package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.initializer.Initializer;
import java.util.Random;

/**
 * Normal(0, std) initialisation generated in Java from {@code (seed, parameter name)}, so that
 * values are identical on every platform and engine, and independent of the order in which
 * parameters are initialised. A std of 0 gives ones (norm gains).
 */
final class SeededNormal implements Initializer {

    private final long seed;
    private final double std;

    public SeededNormal(long modelSeed, String parameterName, double std) {
        this.seed = mix(modelSeed, parameterName);
        this.std = std;
    }

    static long mix(long seed, String name) {
        long h = seed * 0x9E3779B97F4A7C15L + name.hashCode();
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return h;
    }

    @Override
    public NDArray initialize(NDManager manager, Shape shape, DataType dataType) {
        int n = Math.toIntExact(shape.size());
        Random r = new Random(seed);
        if (dataType == DataType.FLOAT64) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = std == 0 ? 1.0 : r.nextGaussian() * std;
            }
            return Tensors.owned(manager.create(v, shape));
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = std == 0 ? 1f : (float) (r.nextGaussian() * std);
        }
        return Tensors.constant(manager, v, shape, dataType);
    }
}
