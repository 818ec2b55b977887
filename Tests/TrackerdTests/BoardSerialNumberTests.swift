import Foundation
import Testing
import TestSupport
@testable import TrackerSystem

@Suite struct BoardSerialNumberTests {
    @Test func prefersTheDeviceTreeSerialThenTheMachineID() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let serial = dir.file("serial-number"), machine = dir.file("machine-id")
        try Data("10000000a1b2c3d4\0".utf8).write(to: serial)
        try Data("0123456789abcdef0123456789abcdef\n".utf8).write(to: machine)
        #expect(BoardSerialNumber.read(paths: [serial.path, machine.path]) == "10000000a1b2c3d4")
        #expect(BoardSerialNumber.read(paths: [dir.file("absent").path, machine.path]) == "0123456789abcdef0123456789abcdef")
        try Data("\0\n".utf8).write(to: serial)
        #expect(BoardSerialNumber.read(paths: [serial.path, machine.path]) == "0123456789abcdef0123456789abcdef")
        #expect(BoardSerialNumber.read(paths: [dir.file("absent").path]) == nil)
    }
}
