// Placeholder until the DasprovTasks layer lands.
