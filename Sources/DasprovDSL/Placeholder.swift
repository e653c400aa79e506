// Placeholder until the DasprovDSL layer lands.
