//! Wasted space: dive's figures, computed as dive 0.13.1 computes them, and storesnap's own.
