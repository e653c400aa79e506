// Placeholder until the DasprovTemplate layer lands.
