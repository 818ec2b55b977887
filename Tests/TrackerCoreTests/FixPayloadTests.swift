import Testing
@testable import TrackerCore

@Suite struct FixPayloadTests {
    let fix = Fix(time: UTCTimestamp(iso8601: "2020-03-02T08:03:20.200Z"), mode: .threeD, latitude: 10.1, longitude: 10.1,
                  altitudeMSL: 42, satellitesUsed: 9, hdop: 0.9, speed: 24.9, track: 90)

    @Test func gpsInputIsTheOriginalDesignsFormat() {
        #expect(FixPayload.encode(fix, deviceID: "1", format: .gpsInput)
                == #"{"gpsDeviceID":"1","gpsLat":10.1,"gpsLng":10.1,"gpsDatTm":"03/02/2020  08:03:20.200"}"#)
    }

    @Test func extendedAddsTheRest() {
        #expect(FixPayload.encode(fix, deviceID: "truck\"7", format: .extended)
                == #"{"gpsDeviceID":"truck\"7","gpsLat":10.1,"gpsLng":10.1,"gpsDatTm":"03/02/2020  08:03:20.200","time":"2020-03-02T08:03:20.200Z","mode":3,"altMSL":42,"speed":24.9,"track":90,"sats":9,"hdop":0.9}"#)
    }

    @Test func nothingWithoutPositionOrTime() {
        #expect(FixPayload.encode(Fix(time: fix.time, mode: .noFix), deviceID: "1", format: .gpsInput) == nil)
        var untimed = fix
        untimed.time = nil
        #expect(FixPayload.encode(untimed, deviceID: "1", format: .gpsInput) == nil)
    }
}

@Suite struct GreatCircleTests {
    @Test func greatCircleDistance() {
        let d = GreatCircle.distance(latitude1: 10.1, longitude1: 10.1, latitude2: 10.2, longitude2: 10.1)
        #expect(abs(d - 11_119.5) < 1)
    }
}
