#!/usr/bin/env python3
"""Writes token ids exactly as karpathy/nanoGPT's prepare.py does: a bare uint16 array, no header.

usage: nanogpt_bin.py OUT.bin ID [ID ...]
(the same call as prepare.py: np.array(ids, dtype=np.uint16).tofile(path))
"""
import sys

import numpy as np

ids = [int(a) for a in sys.argv[2:]]
np.array(ids, dtype=np.uint16).tofile(sys.argv[1])
