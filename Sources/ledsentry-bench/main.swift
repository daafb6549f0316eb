print("ledsentry-bench: no benchmarks yet")
