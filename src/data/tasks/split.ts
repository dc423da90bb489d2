/**
 * scikit-learn's `train_test_split(items, train_size=p, random_state=seed, shuffle=True)`, the split the
 * paper's PhysioNet and person-activity code uses: n_train = floor(p * n), n_test = n - n_train, one
 * numpy `RandomState(seed).permutation(n)`; the first n_test indices are the test set, the next n_train
 * the training set, each in permutation order.
 */
import { RandomState } from "../../wirings/mt19937.js";

export interface SplitIndices {
  readonly train: number[];
  readonly test: number[];
}

export function trainTestSplit(n: number, trainSize: number, seed: number): SplitIndices {
  if (!(trainSize > 0 && trainSize < 1)) throw new Error(`trainTestSplit: trainSize must be in (0, 1), got ${trainSize}`);
  const nTrain = Math.floor(trainSize * n);
  const nTest = n - nTrain;
  const order = new RandomState(seed).permutation(n);
  return { test: order.slice(0, nTest), train: order.slice(nTest, nTest + nTrain) };
}
