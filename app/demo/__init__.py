"""Demo data: a believable school to try Livret with, and for benchmarks."""
