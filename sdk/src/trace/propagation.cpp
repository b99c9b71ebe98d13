// Placeholder: W3C propagation parsers are being written (see obs/propagation.hpp).
