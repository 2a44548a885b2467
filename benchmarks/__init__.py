"""Speed and memory benchmarks: `python -m benchmarks [name]` (or `./dev bench [name]`)."""
