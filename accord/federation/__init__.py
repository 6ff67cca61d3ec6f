"""Federation between sites: control commands over gRPC (and, later, the data plane)."""
