"""`make bench`: the product's throughput and latency on the real stack, beside the broker's raw rate."""
