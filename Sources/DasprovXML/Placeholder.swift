// Placeholder until the DasprovXML layer lands.
