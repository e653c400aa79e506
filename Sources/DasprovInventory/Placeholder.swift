// Placeholder until the DasprovInventory layer lands.
