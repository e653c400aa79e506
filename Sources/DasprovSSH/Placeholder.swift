// Placeholder until the DasprovSSH layer lands.
