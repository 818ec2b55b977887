import Testing
@testable import TrackerCore

@Suite struct FixLossDetectorTests {
    let start = MonotonicInstant.now

    func fix(_ second: Int64, valid: Bool = true) -> Fix {
        Fix(time: UTCTimestamp(millisecondsSinceEpoch: 1_583_136_200_000 + second * 1000),
            mode: valid ? .threeD : .noFix, latitude: valid ? 10.15 : nil, longitude: valid ? 10.15 : nil)
    }

    @Test func firstFixLostOnceThenRegained() {
        var detector = FixLossDetector(staleAfter: .seconds(5))
        #expect(detector.receive(fix(0), at: start) == [.fix(fix(0), first: true, regained: false)])
        #expect(detector.receive(fix(1), at: start + .seconds(1)) == [.fix(fix(1), first: false, regained: false)])
        #expect(detector.tick(start + .seconds(5)) == [])
        #expect(detector.receive(fix(2, valid: false), at: start + .seconds(2)) == [])
        #expect(detector.tick(start + .seconds(6)) == [.lost(lastFix: fix(1), receiverReportsNoFix: true)])
        #expect(detector.tick(start + .seconds(60)) == [], "lost is reported once")
        #expect(!detector.hasCurrentFix)
        #expect(detector.receive(fix(70), at: start + .seconds(70)) == [.fix(fix(70), first: false, regained: true)])
        #expect(detector.hasCurrentFix)
    }

    /// On the boundary: a fix exactly `staleAfter` after the last one is in time; a tick at
    /// that moment with nothing new is a loss.
    @Test func aFixOnTheBoundaryIsInTime() {
        var detector = FixLossDetector(staleAfter: .seconds(1))
        _ = detector.receive(fix(0), at: start)
        #expect(detector.receive(fix(1), at: start + .seconds(1)) == [.fix(fix(1), first: false, regained: false)])
        #expect(detector.receive(fix(2), at: start + .milliseconds(2001)) == [.lost(lastFix: fix(1), receiverReportsNoFix: false),
                                                                               .fix(fix(2), first: false, regained: true)])
        #expect(detector.tick(start + .milliseconds(3001)) == [.lost(lastFix: fix(2), receiverReportsNoFix: false)])
    }

    @Test func silenceIsALossToo() {
        var detector = FixLossDetector(staleAfter: .seconds(5))
        _ = detector.receive(fix(0), at: start)
        #expect(detector.tick(start + .seconds(5)) == [.lost(lastFix: fix(0), receiverReportsNoFix: false)])
    }

    /// gpsd repeats the last fix's time after a loss: that is not a new position.
    @Test func anOldFixIsNeverPassedOnAsNew() {
        var detector = FixLossDetector(staleAfter: .seconds(5))
        _ = detector.receive(fix(10), at: start)
        #expect(detector.receive(fix(10), at: start + .seconds(1)) == [.repeated(fix(10))])
        #expect(detector.receive(fix(9), at: start + .seconds(2)) == [.repeated(fix(9))])
        #expect(detector.tick(start + .seconds(5)) == [.lost(lastFix: fix(10), receiverReportsNoFix: false)],
                "a repeat does not refresh the fix")
    }

    @Test func aLateFixFirstReportsTheLoss() {
        var detector = FixLossDetector(staleAfter: .seconds(5))
        _ = detector.receive(fix(0), at: start)
        #expect(detector.receive(fix(30), at: start + .seconds(30)) == [
            .lost(lastFix: fix(0), receiverReportsNoFix: false),
            .fix(fix(30), first: false, regained: true),
        ])
    }
}

extension FixLossDetectorTests {
    /// The daemon wakes for the loss at `staleAt` only: it is the moment `tick` reports it.
    @Test func staleAtIsWhenTheLossIsReported() {
        var detector = FixLossDetector(staleAfter: .seconds(5))
        #expect(detector.staleAt == nil, "no fix: nothing to lose")
        _ = detector.receive(fix(1), at: start)
        #expect(detector.staleAt == start + .seconds(5))
        #expect(detector.tick(start + .milliseconds(4999)).isEmpty)
        #expect(detector.tick(start + .seconds(5)).count == 1)
        #expect(detector.staleAt == nil, "lost: reported once, nothing more to wake for")
    }
}
