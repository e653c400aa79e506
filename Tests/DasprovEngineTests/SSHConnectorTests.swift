import DasprovCore
import DasprovSSH
import Foundation
import Testing

@testable import DasprovEngine

/// How inventory variables become SSH options: Ansible's own first, then the ssh command line
/// in `ansible_ssh_common_args` / `ansible_ssh_extra_args`, then dasprov's overrides.
@Suite struct SSHConnectorTests {
  func host(_ vars: [String: Value]) -> HostSpec { HostSpec(name: "h1", vars: vars, groups: ["all"]) }

  @Test func inventoryVariablesWinOverTheSameSSHOptions() throws {
    let connector = SSHConnector(inventoryDirectory: "/inv")
    let o = try connector.options(for: host([
      "ansible_host": "10.0.0.5", "ansible_port": 2222, "ansible_user": "deploy",
      "ansible_ssh_private_key_file": "keys/id",
      "ansible_ssh_common_args": "-o Port=1 -o User=other -i ~/extra -o StrictHostKeyChecking=accept-new -J ops@bastion:2200",
      "ansible_ssh_extra_args": "-o ConnectTimeout=3 -o ServerAliveInterval=7 -o IdentitiesOnly=yes -o UserKnownHostsFile=/kh",
    ]))
    #expect(o.host == "10.0.0.5" && o.port == 2222 && o.user == "deploy")
    #expect(o.privateKeyFiles == ["/inv/keys/id", ("~/extra" as NSString).expandingTildeInPath])
    #expect(o.hostKeyPolicy == .acceptNew)
    #expect(o.knownHostsFile == "/kh")
    #expect(o.connectTimeout == .seconds(3))
    #expect(o.keepaliveInterval == 7)
    #expect(!o.useAgent)
    #expect(o.proxyJump == "ops@bastion:2200")
  }

  @Test func dasprovsOwnSettingsWinOverSSHOptions() throws {
    let vars: [String: Value] = [
      "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
      "dasprov_host_key_checking": "strict", "dasprov_known_hosts": "/state/known_hosts",
    ]
    let o = try SSHConnector().options(for: host(vars))
    #expect(o.hostKeyPolicy == .strict && o.knownHostsFile == "/state/known_hosts")
    let cli = try SSHConnector(knownHostsOverride: "/cli/kh", policyOverride: "accept-new").options(for: host(vars))
    #expect(cli.hostKeyPolicy == .acceptNew && cli.knownHostsFile == "/cli/kh")
  }

  @Test func ignoredOptionsAreNamedAndBadOnesAreConfigurationErrors() throws {
    let connector = SSHConnector()
    let line = try connector.commandLine(for: host([
      "ansible_ssh_common_args": "-o ControlMaster=auto -o ControlPersist=60s -C",
      "ansible_ssh_extra_args": #"-o ProxyCommand="ssh -W %h:%p -q jump@gw""#,
    ]))
    #expect(line.ignored == ["ControlMaster=auto", "ControlPersist=60s", "-C"])
    #expect(line.proxyCommand == "ssh -W %h:%p -q jump@gw")
    let error = try #require(throws: ConnectError.self) {
      try connector.options(for: host(["ansible_ssh_common_args": "-o 'Port=x"]))
    }
    #expect(error.kind == .configuration)
    #expect(error.message.contains("ansible_ssh_common_args of h1"), "\(error.message)")
  }

  @Test func connectionErrorsKeepTheirKind() {
    #expect(ConnectError(SSHError(.hostKeyChanged, host: "h", "changed")).kind == .hostKey)
    #expect(ConnectError(SSHError(.authenticationFailed(tried: [], offered: []), host: "h", "no")).kind == .authentication)
    #expect(ConnectError(SSHError(.invalidArgument, host: "h", "ProxyCommand 'nc' for h is not supported")).kind == .configuration)
    #expect(ConnectError(SSHError(.unreachable, host: "h", "no route")).kind == .unreachable)
  }
}
