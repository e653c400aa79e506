// Placeholder until the DasprovEngine layer lands.
