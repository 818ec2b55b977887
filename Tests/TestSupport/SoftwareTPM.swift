import Foundation

/// A software TPM 2.0 (Debian's swtpm) behind its resource manager (tpm2-abrmd, on a D-Bus
/// session bus of its own), with a tpm2-pkcs11 token on it: the TPM a Raspberry Pi gets from
/// an SLB9670 (where the kernel's /dev/tpmrm0 is the resource manager), as a PKCS#11 module.
public final class SoftwareTPM: Sendable {
    public static let module = "/usr/lib/\(multiarch)/pkcs11/libtpm2_pkcs11.so"
    #if arch(arm64)
    static let multiarch = "aarch64-linux-gnu"
    #else
    static let multiarch = "x86_64-linux-gnu"
    #endif
    public static var available: Bool {
        ["/usr/bin/swtpm", "/usr/sbin/tpm2-abrmd", "/usr/bin/tpm2_ptool", "/usr/bin/dbus-daemon", module]
            .allSatisfy { FileManager.default.fileExists(atPath: $0) }
    }

    public let directory: TemporaryDirectory
    public let label: String
    public let pin: String
    let processes: [ChildProcess]
    public let busAddress: String

    public var pinFile: String { directory.file("pin").path }
    public var store: String { directory.file("store").path }
    /// What a process using the token needs: the bus, the TCTI and tpm2-pkcs11's store.
    public var environment: [String: String] {
        ["DBUS_SESSION_BUS_ADDRESS": busAddress, "TPM2_PKCS11_TCTI": "tabrmd:bus_type=session",
         "TPM2TOOLS_TCTI": "tabrmd:bus_type=session", "TPM2_PKCS11_STORE": store]
    }

    public static func start(label: String = "trackerd", pin: String = "4711") async throws -> SoftwareTPM {
        let directory = try TemporaryDirectory("trackerd-swtpm")
        for sub in ["state", "store"] {
            try FileManager.default.createDirectory(atPath: directory.file(sub).path, withIntermediateDirectories: true)
        }
        var processes: [ChildProcess] = []
        func fail(_ text: String) -> Error {
            for process in processes { process.stop() }
            directory.remove()
            return CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: text])
        }
        // The swtpm TCTI takes the control channel to be the next port after the TPM's.
        var port = LoopbackPort.free()
        while (try? TCPListener(port: port + 1)).map({ $0.close() }) == nil { port = LoopbackPort.free() }
        // swtpm writes its pid once its sockets listen; into a FIFO, that is an event to wait
        // on (tpm2-abrmd gives up at once when the TPM is not there yet).
        let pidFIFO = directory.file("swtpm.pid").path
        guard mkfifo(pidFIFO, 0o600) == 0 else { throw fail("mkfifo \(pidFIFO): \(String(cString: strerror(errno)))") }
        let listening = try ChildProcess("/bin/cat", [pidFIFO])
        processes.append(listening)
        let swtpm = try ChildProcess("/usr/bin/swtpm", [
            "socket", "--tpm2", "--tpmstate", "dir=" + directory.file("state").path,
            "--server", "type=tcp,port=\(port),bindaddr=127.0.0.1", "--ctrl", "type=tcp,port=\(port + 1),bindaddr=127.0.0.1",
            "--flags", "not-need-init,startup-clear", "--pid", "file=" + pidFIFO,
        ])
        processes.append(swtpm)
        guard await listening.waitForExit(timeout: .seconds(10)) == 0 else {
            throw fail("swtpm did not start: \(swtpm.stderrLines.items.suffix(3))")
        }
        let bus = try ChildProcess("/usr/bin/dbus-daemon", ["--session", "--nofork", "--print-address=1",
                                                            "--address=unix:path=" + directory.file("bus").path])
        processes.append(bus)
        guard await bus.stdoutLines.wait(timeout: .seconds(10), until: { !$0.isEmpty }), let address = bus.stdoutLines.items.first else {
            throw fail("dbus-daemon did not start: \(bus.stderrLines.items)")
        }
        // With GLib's debug messages on, tpm2-abrmd says when it owns its name on the bus.
        let abrmd = try ChildProcess("/usr/sbin/tpm2-abrmd", ["--session", "--tcti=swtpm:host=127.0.0.1,port=\(port)"]
                                     + (getuid() == 0 ? ["--allow-root"] : []),
                                     environment: ["DBUS_SESSION_BUS_ADDRESS": address, "G_MESSAGES_DEBUG": "all"])
        processes.append(abrmd)
        let named: @Sendable ([String]) -> Bool = { $0.contains { $0.contains("on_name_acquired") } }
        guard await abrmd.stdoutLines.wait(timeout: .seconds(20), until: named) || named(abrmd.stderrLines.items) else {
            throw fail("tpm2-abrmd did not take its bus name: \(abrmd.stderrLines.items.suffix(3)) \(abrmd.stdoutLines.items.suffix(3))")
        }
        let tpm = SoftwareTPM(directory: directory, label: label, pin: pin, processes: processes, busAddress: address)
        let initialise = try ChildProcess("/usr/bin/tpm2_ptool", ["init", "--path", tpm.store], environment: tpm.environment)
        guard await initialise.waitForExit(timeout: .seconds(30)) == 0 else {
            throw fail("tpm2_ptool init failed: \(initialise.stderrLines.items.suffix(3)) \(abrmd.stderrLines.items.suffix(3))")
        }
        let token = try ChildProcess("/usr/bin/tpm2_ptool", ["addtoken", "--pid", "1", "--label", label, "--userpin", pin,
                                                            "--sopin", "so-" + pin, "--path", tpm.store], environment: tpm.environment)
        guard await token.waitForExit(timeout: .seconds(30)) == 0 else { throw fail("tpm2_ptool addtoken failed: \(token.stderrLines.items.suffix(3))") }
        _ = FileManager.default.createFile(atPath: tpm.pinFile, contents: Data((pin + "\n").utf8), attributes: [.posixPermissions: 0o600])
        return tpm
    }

    private init(directory: TemporaryDirectory, label: String, pin: String, processes: [ChildProcess], busAddress: String) {
        self.directory = directory
        self.label = label
        self.pin = pin
        self.processes = processes
        self.busAddress = busAddress
    }

    /// Imports a PEM private key into the token as `keyLabel` (the TPM wraps it; it is then
    /// usable only inside this TPM).
    public func importKey(_ pem: String, label keyLabel: String) async throws {
        let importer = try ChildProcess("/usr/bin/tpm2_ptool", ["import", "--privkey", pem, "--label", label, "--key-label", keyLabel,
                                                               "--userpin", pin, "--algorithm", "ecc", "--path", store],
                                        environment: environment)
        guard await importer.waitForExit(timeout: .seconds(30)) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "tpm2_ptool import failed: \(importer.stderrLines.items.suffix(3))"])
        }
    }

    public func stop() {
        for process in processes.reversed() { process.stop() }
        directory.remove()
    }
}
