import DasprovCore

/// Names Ansible reserves for playbook keywords and template globals: a variable with one of
/// them is shadowed or shadows something, so Ansible warns
/// "Found variable using reserved name 'become'" — and so does dasprov.
enum ReservedNames {
  /// ansible-core 2.19.14's `get_reserved_names()` (the attributes of Play, Role, Block and
  /// Task, the templating globals, `local_action` and `with_`), less `vars`, which Ansible adds
  /// itself and never warns about. The oracle tests compare it with the installed Ansible.
  static let all: Set<String> = [
    "action", "always", "any_errors_fatal", "args", "async", "async_val", "become", "become_exe",
    "become_flags", "become_method", "become_user", "block", "changed_when", "check_mode",
    "collections", "connection", "cycler", "debugger", "delay", "delegate_facts", "delegate_to",
    "dict", "diff", "environment", "fact_path", "failed_when", "force_handlers", "gather_facts",
    "gather_timeout", "handlers", "hosts", "ignore_errors", "ignore_unreachable", "joiner", "lipsum",
    "local_action", "lookup", "loop", "loop_control", "loop_with", "max_fail_percentage",
    "module_defaults", "name", "namespace", "no_log", "notify", "now", "omit", "order", "poll",
    "port", "post_tasks", "pre_tasks", "q", "query", "range", "register", "remote_user", "rescue",
    "retries", "roles", "run_once", "serial", "strategy", "tags", "tasks", "throttle", "timeout",
    "undef", "until", "vars_files", "vars_prompt", "when", "with_",
  ]

  /// ansible-core 2.19.14's `INTERNAL_STATIC_VARS`: the magic variables a play sets. An inventory
  /// may set variables with these names, but ansible-inventory leaves them out of `--list` and
  /// `--host`, and so does dasprov.
  static let hiddenFromListings: Set<String> = [
    "ansible_async_path", "ansible_collection_name", "ansible_config_file", "ansible_dependent_role_names",
    "ansible_diff_mode", "ansible_facts", "ansible_forks", "ansible_inventory_sources", "ansible_limit",
    "ansible_play_batch", "ansible_play_hosts", "ansible_play_hosts_all", "ansible_play_role_names",
    "ansible_playbook_python", "ansible_role_name", "ansible_role_names", "ansible_run_tags", "ansible_skip_tags",
    "ansible_verbosity", "ansible_version", "inventory_dir", "inventory_file", "inventory_hostname",
    "inventory_hostname_short", "groups", "group_names", "hostvars", "playbook_dir", "play_hosts", "role_name",
    "role_names", "role_path", "role_uuid",
  ]

  /// One warning per place a reserved name is set that some host ends up with (Ansible checks
  /// each host's variables), at that place.
  static func warnings(for hosts: some Sequence<InventoryHost>) -> [Diagnostic] {
    var found: [SourceRange: String] = [:]
    for host in hosts {
      for (name, origin) in host.varOrigins where all.contains(name) { found[origin] = name }
    }
    return found.sorted { ($0.key.start, $0.value) < ($1.key.start, $1.value) }.map { origin, name in
      .warning("found variable using reserved name \(name: name), as Ansible warns: it is a playbook keyword", at: origin)
    }
  }
}
