"""The server's routes, one module per group (each exports ``router``)."""
