import DasprovCore
import Foundation
import Testing

@testable import DasprovSSH

/// A tree of configuration files: the user's `~/.ssh` and the system's `/etc/ssh`.
struct ConfigTree {
  let root: String
  var home: String { root + "/home" }
  var etc: String { root + "/etc-ssh" }

  /// `files` maps `~/.ssh/…` and `/etc/ssh/…` (as written) to their text.
  init(_ label: String, _ files: [String: String]) throws {
    root = TestWorld.shared.localDir("sshcfg-" + label)
    try FileManager.default.createDirectory(atPath: home + "/.ssh", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
    for (name, text) in files {
      let path = local(name)
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try text.replacingOccurrences(of: "ROOT", with: root).write(toFile: path, atomically: true, encoding: .utf8)
    }
  }

  func local(_ name: String) -> String {
    if name.hasPrefix("~/") { return home + name.dropFirst(1) }
    if name.hasPrefix("/etc/ssh/") { return etc + name.dropFirst(8) }
    return name
  }

  var files: SSHConfigFiles {
    SSHConfigFiles(
      home: home, localUser: "root", userFile: home + "/.ssh/config", systemFile: etc + "/ssh_config",
      systemDirectory: etc)
  }

  /// What `ssh -G` says, run where `/root` is this tree's home and `/etc/ssh` its `etc-ssh`
  /// (a mount namespace of its own), so OpenSSH reads exactly these files.
  func openSSH(_ host: String, user: String? = nil) -> [String: [String]] {
    let script = #"mount --bind "$1" /root && mount --bind "$2" /etc/ssh && shift 2 && exec /usr/bin/ssh -G "$@""#
    let args = ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", home, etc]
      + (user.map { ["-l", $0] } ?? []) + [host]
    let r = runLocal(args)
    var out: [String: [String]] = [:]
    for line in r.out.split(separator: "\n") {
      let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
      if parts.count == 2 { out[parts[0], default: []].append(parts[1]) }
    }
    return out
  }
}

/// The configuration reader against OpenSSH's own: for every host of a corpus of configs
/// (Include, Match, first-wins, the system file), the values `ssh -G` prints.
@Suite struct SSHConfigCorpusTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var files: [String: String]
    var hosts: [String]
    var user: String? = nil
    var testDescription: String { name }
  }

  static let corpus: [Case] = [
    Case(
      name: "host blocks",
      files: [
        "~/.ssh/config": """
          # global
          IdentityFile ~/.ssh/global_key
          Host das-* !das-skip
            User wso2
            Port=2200
            IdentityFile "~/.ssh/das key"
          Host das-?1 db DB
            HostName %h.example.net
            User ignored-because-first-wins
            Port 2201
          Host a,b
            User comma-is-not-a-list-here
          Host *
            User fallback
            IdentityFile %d/.ssh/id_%u
          """
      ],
      hosts: ["das-a1", "das-skip", "db", "DB", "Db", "a", "other"]),
    Case(
      name: "includes",
      files: [
        "~/.ssh/config": """
          Include conf.d/*.conf
          Host inc-*
            Include ROOT/abs/extra.conf
            Port 2300
          Host never-matches
            Include ~/.ssh/inactive.conf
          Include missing.conf nothing-*.conf
          Host *
            User last
          """,
        "~/.ssh/conf.d/20-second.conf": "Host inc-b\n  User from-second\n",
        "~/.ssh/conf.d/10-first.conf": "Host inc-*\n  User from-first\n  HostName %h.first\nHost zzz\n  Port 1\n",
        "~/.ssh/inactive.conf": "Host *\n  User from-inactive\n  Port 9\n",
        "ROOT/abs/extra.conf": "IdentityFile ~/.ssh/from-extra\nInclude nested.conf\n",
        "~/.ssh/nested.conf": "ProxyJump jumper@bastion:2222,second\n",
      ],
      hosts: ["inc-a", "inc-b", "plain"]),
    Case(
      name: "match",
      files: [
        "~/.ssh/config": """
          Host short
            HostName long.example.org
          Match host long.*
            User by-hostname
          Match originalhost SHORT user by-*
            Port 2401
          Match user root
            Port 2402
          Match localuser root !host nomatch-*
            IdentityFile ~/.ssh/local-root
          Match exec "false"
            User from-exec
          Match all
            ProxyCommand ssh -W %h:%p -q "gate keeper"@gate
          """
      ],
      hosts: ["short", "other", "nomatch-1"]),
    Case(
      name: "match with a user given",
      files: [
        "~/.ssh/config": """
          Match user deploy
            Port 2501
          Match user root
            Port 2502
          Host *
            User never-used
          """
      ],
      hosts: ["x"], user: "deploy"),
    Case(
      name: "final pass",
      files: [
        "~/.ssh/config": """
          Host alias
            HostName real
          Match canonical
            User canon
          Match final host real
            Port 2601
          Host real
            IdentityFile ~/.ssh/for-real
            ProxyJump second-pass
          """
      ],
      hosts: ["alias", "real", "unrelated"]),
    Case(
      name: "system file after the user's",
      files: [
        "~/.ssh/config": """
          Host both
            User from-user
          """,
        "/etc/ssh/ssh_config": """
          Include ssh_config.d/*.conf
          Host *
            SendEnv LANG LC_*
            HashKnownHosts yes
            User from-system
            Port 2700
          """,
        "/etc/ssh/ssh_config.d/50-site.conf": "Host both sys\n  IdentityFile /etc/ssh/site_key\n  ProxyJump sysjump\n",
      ],
      hosts: ["both", "sys"]),
  ]

  @Test(arguments: corpus)
  func sameAsOpenSSH(_ c: Case) throws {
    let tree = try ConfigTree(c.name.replacingOccurrences(of: " ", with: "-"), c.files)
    for host in c.hosts {
      let ssh = tree.openSSH(host, user: c.user)
      try #require(ssh["user"] != nil, "ssh -G \(host) printed nothing")
      let ours = SSHConfig.resolve(host: host, given: SSHConfig.Settings(user: c.user), files: tree.files)
      #expect([ours.user ?? "root"] == ssh["user"], "\(c.name): user of \(host)")
      #expect([(ours.hostName ?? host).lowercased()] == ssh["hostname"], "\(c.name): hostname of \(host)")
      #expect([String(ours.port ?? 22)] == ssh["port"], "\(c.name): port of \(host)")
      if !ours.identityFiles.isEmpty {
        #expect(ours.identityFiles == ssh["identityfile"], "\(c.name): identity files of \(host)")
      }
      #expect(ours.proxyJump.map { [$0] } == ssh["proxyjump"], "\(c.name): ProxyJump of \(host)")
      #expect(ours.proxyCommand.map { [$0] } == ssh["proxycommand"], "\(c.name): ProxyCommand of \(host)")
    }
  }

  @Test func matchExecIsSkippedWithAWarningNamingTheLine() throws {
    let tree = try ConfigTree("exec", ["~/.ssh/config": "Host *\n  Port 2222\nMatch exec \"true\"\n  User from-exec\n"])
    let settings = SSHConfig.resolve(host: "h", files: tree.files)
    #expect(settings.user == nil)
    #expect(settings.warnings == ["~/.ssh/config:3: Match exec is not supported (dasprov runs no local commands from the SSH config); the block is skipped"])
  }

  @Test func optionsWinOverConfigWhichWinsOverDefaults() throws {
    let tree = try ConfigTree(
      "options", ["~/.ssh/config": "Host das-*\n  HostName 127.0.0.9\n  User cfguser\n  Port 2222\n  IdentityFile ~/k_%r_%p\n"])
    var options = SSHOptions(
      host: "das-1", sshConfigFile: tree.home + "/.ssh/config", environment: ["HOME": "/home/x", "USER": "me"])
    var r = try options.resolved()
    #expect((r.address, r.port, r.user, r.keyFiles) == ("127.0.0.9", 2222, "cfguser", ["/home/x/k_cfguser_2222"]))
    #expect(r.knownHostsFile == "/home/x/.ssh/known_hosts")
    #expect(r.knownHostsName == "[127.0.0.9]:2222")
    options.user = "inv"
    options.port = 22
    options.privateKeyFiles = ["~/inv_key"]
    r = try options.resolved()
    #expect((r.port, r.user, r.keyFiles) == (22, "inv", ["/home/x/inv_key"]))
    #expect(r.knownHostsName == "127.0.0.9")
    let plain = try SSHOptions(host: "h", sshConfigFile: "", environment: ["HOME": "/home/x", "USER": "me", "DASPROV_SSH_PASSWORD": "pw"]).resolved()
    #expect(plain.keyFiles == ["/home/x/.ssh/id_ed25519", "/home/x/.ssh/id_ecdsa", "/home/x/.ssh/id_rsa"])
    #expect(plain.user == "me" && plain.port == 22 && plain.password == "pw" && plain.agentSocket == nil)
    #expect(plain.jumps.isEmpty)
  }

  @Test func jumpChainsFromTheConfigAndTheOptions() throws {
    let tree = try ConfigTree("jumps", ["~/.ssh/config": "Host private-*\n  ProxyJump ops@bastion:2200,%r@inner\n"])
    var options = SSHOptions(host: "private-1", user: "app", sshConfigFile: tree.home + "/.ssh/config", environment: ["HOME": tree.home, "USER": "me"])
    #expect(try options.resolved().jumps == [JumpHost(user: "ops", host: "bastion", port: 2200), JumpHost(user: "app", host: "inner")])
    options.proxyJump = "none"
    #expect(try options.resolved().jumps.isEmpty)
    options.proxyJump = nil
    options.proxyCommand = "ssh -W %h:%p gw"
    // The config's ProxyJump came first for the options? No: the inventory's ProxyCommand wins.
    #expect(try options.resolved().jumps == [JumpHost(host: "gw")])
  }

  @Test func globsAndLists() {
    #expect(SSHConfig.glob("*", "anything"))
    #expect(SSHConfig.glob("das-??", "das-a1"))
    #expect(!SSHConfig.glob("das-??", "das-a12"))
    #expect(SSHConfig.glob("*.example.*", "a.example.net"))
    #expect(!SSHConfig.glob("a*b", "acbx"))
    #expect(SSHConfig.listMatches("Web1", list: "db*,web?", ignoringCase: true))
    #expect(!SSHConfig.listMatches("web1", list: "web*,!web1", ignoringCase: true))
    #expect(!SSHConfig.listMatches("web1", list: "!db*", ignoringCase: true), "a negation alone never matches")
  }
}

/// `ansible_ssh_common_args` and friends, split and read as Ansible and ssh do.
@Suite struct SSHCommandLineTests {
  @Test func shlexSplitsLikePython() throws {
    #expect(try SSHCommandLine.shellWords(#"-o ProxyCommand="ssh -W %h:%p -q user@bastion" -J 'a b'\ c"#)
      == ["-o", "ProxyCommand=ssh -W %h:%p -q user@bastion", "-J", "a b c"])
    #expect(try SSHCommandLine.shellWords(#"a"b\"c"d 'e\f'"#) == [#"ab"cd"#, #"e\f"#])
    #expect(throws: SSHError.self) { try SSHCommandLine.shellWords("-o 'unclosed") }
  }

  @Test func appliedOptionsFirstValueWinsTheRestIsNamed() throws {
    var line = SSHCommandLine()
    try line.parse(
      "-o StrictHostKeyChecking=accept-new -oPort=2200 -o 'User deploy' -i ~/.ssh/k1 -p 9 -C -o ControlMaster=auto "
        + "-o ControlPersist=60s -J ops@bastion:2222,inner -o UserKnownHostsFile=/tmp/kh -o ConnectTimeout=7 -tt")
    try line.parse("-o Port=1 -o ServerAliveInterval=5 -o IdentitiesOnly=yes -F /tmp/cfg -o ProxyCommand=ignored")
    #expect(line.port == 2200)
    #expect(line.user == "deploy")
    #expect(line.identityFiles == ["~/.ssh/k1"])
    #expect(line.hostKeyPolicy == .acceptNew)
    #expect(line.knownHostsFile == "/tmp/kh")
    #expect(line.connectTimeoutSeconds == 7)
    #expect(line.keepaliveInterval == 5)
    #expect(line.identitiesOnly == true)
    #expect(line.configFile == "/tmp/cfg")
    #expect(line.proxyJump == "ops@bastion:2222,inner")
    #expect(line.proxyCommand == nil, "ProxyJump came first")
    #expect(line.ignored == ["-C", "ControlMaster=auto", "ControlPersist=60s", "-t", "-t"])
    var bad = SSHCommandLine()
    #expect(throws: SSHError.self) { try bad.parse("-o Port=http") }
    #expect(throws: SSHError.self) { try bad.parse("-o StrictHostKeyChecking=maybe") }
    #expect(throws: SSHError.self) { try bad.parse("-p") }
  }

  @Test func jumpSpecs() throws {
    #expect(try JumpHost.chain("b1") == [JumpHost(host: "b1")])
    #expect(try JumpHost.chain("u@b1:2200,ssh://v@b2:22,[::1]:2222,w@[fe80::1]")
      == [JumpHost(user: "u", host: "b1", port: 2200), JumpHost(user: "v", host: "b2", port: 22),
          JumpHost(host: "::1", port: 2222), JumpHost(user: "w", host: "fe80::1")])
    #expect(try JumpHost.chain("none").isEmpty)
    #expect(JumpHost(user: "w", host: "fe80::1", port: 22).description == "w@[fe80::1]:22")
    for bad in ["", "u@", "h:port", "h:0", "a b", "b1,,b2"] {
      #expect(throws: SSHError.self, "\(bad)") { try JumpHost.chain(bad) }
    }
  }

  @Test func proxyCommandIdiom() {
    var ignored: [String] = []
    #expect(JumpHost.fromProxyCommand("ssh -W %h:%p -q user@bastion", ignored: &ignored) == [JumpHost(user: "user", host: "bastion")])
    #expect(JumpHost.fromProxyCommand("/usr/bin/ssh -q -W [%h]:%p -p 2222 -i ~/.ssh/b -o StrictHostKeyChecking=no bastion", ignored: &ignored)
      == [JumpHost(host: "bastion", port: 2222, identityFiles: ["~/.ssh/b"])])
    #expect(JumpHost.fromProxyCommand("exec ssh -l ops -J first -W %h:%p gw", ignored: &ignored)
      == [JumpHost(host: "first"), JumpHost(user: "ops", host: "gw")])
    #expect(ignored == ["StrictHostKeyChecking"], "the jump host is checked like the target, and the user hears so")
    for other in ["nc %h %p", "ssh bastion nc %h %p", "ssh -W %h:%p", "ssh -W other:22 bastion", "ssh -W %h:%p -X bastion", "connect-proxy -S socks:1080 %h %p"] {
      #expect(JumpHost.fromProxyCommand(other, ignored: &ignored) == nil, "\(other)")
    }
  }
}
