/// Turns the sentences of one receiver cycle into one `Fix`.
///
/// A cycle is the run of sentences that share a UTC time of day; GSA, GSV and VTG carry no
/// time and join the cycle they arrive in. A cycle is complete when the time changes, or
/// earlier, as soon as the sentence that ended the last two cycles arrives (the assembler
/// learns each receiver's order, as gpsd does), so a live fix is not held back a whole cycle.
/// Sources with an idle timer call `flush()` to close a cycle whose end never came.
public struct EpochAssembler: Sendable {
    struct Epoch: Sendable {
        var timeOfDay: Int?
        var firstTimedAddress: String?
        var emitted = false
        var lastAddress = ""
        var gga: [GGASentence] = []
        var rmc: [RMCSentence] = []
        var gns: [GNSSentence] = []
        var gll: [GLLSentence] = []
        var gsa: [GSASentence] = []
        var vtg: [VTGSentence] = []
        var zda: [ZDASentence] = []

        var hasTimedSentence: Bool { firstTimedAddress != nil }
    }

    private var current: Epoch?
    /// The last date seen and the time of day it was seen at, to carry the date across cycles
    /// whose own sentences have none (GGA-only) and across midnight.
    private var dateAnchor: (date: CivilDate, timeOfDay: Int)?
    private var cycleEnd: String?
    private var cycleEndCandidate: String?

    public init() {}

    /// The sentence address after which a cycle is emitted without waiting, once learned.
    public var learnedCycleEnd: String? { cycleEnd }

    public mutating func add(_ message: NMEAMessage, address: String, _ emit: (Fix) -> Void) {
        let isTimed = Self.isTimedType(message)
        let time = message.timeOfDay
        if isTimed, var epoch = current, epoch.hasTimedSentence {
            let newCycle: Bool
            if let time, let epochTime = epoch.timeOfDay {
                newCycle = time != epochTime
            } else {
                newCycle = time == nil && epoch.timeOfDay == nil && address == epoch.firstTimedAddress
            }
            if newCycle {
                if !epoch.emitted, let fix = finalize(epoch) { emit(fix) }
                learn(cycleEndedBy: epoch.lastAddress)
                current = nil
            } else if epoch.emitted {
                // A straggler of a cycle already handed out: note where the cycle really ended.
                epoch.lastAddress = address
                current = epoch
                return
            }
        } else if !isTimed, current?.emitted ?? false {
            current = nil
        }

        var epoch = current ?? Epoch()
        if isTimed {
            if epoch.firstTimedAddress == nil { epoch.firstTimedAddress = address }
            if epoch.timeOfDay == nil { epoch.timeOfDay = time }
        }
        var endsSequence = true
        switch message {
        case .gga(let m): epoch.gga.append(m)
        case .rmc(let m): epoch.rmc.append(m)
        case .gns(let m): epoch.gns.append(m)
        case .gll(let m): epoch.gll.append(m)
        case .gsa(let m): epoch.gsa.append(m)
        case .vtg(let m): epoch.vtg.append(m)
        case .zda(let m): epoch.zda.append(m)
        case .gsv(let m): endsSequence = m.isLastOfSequence
        }
        epoch.lastAddress = address
        if endsSequence, address == cycleEnd, epoch.hasTimedSentence, !epoch.emitted {
            if let fix = finalize(epoch) { emit(fix) }
            epoch.emitted = true
        }
        current = epoch
    }

    /// A cycle is open that only a `flush` would hand out now (its end has not come).
    public var hasOpenCycle: Bool {
        guard let current else { return false }
        return !current.emitted
    }

    /// Closes the open cycle (end of input, or the receiver went quiet).
    public mutating func flush(_ emit: (Fix) -> Void) {
        guard var epoch = current, !epoch.emitted else { return }
        if let fix = finalize(epoch) { emit(fix) }
        epoch.emitted = true
        current = epoch
    }

    private mutating func learn(cycleEndedBy address: String) {
        if address == cycleEndCandidate { cycleEnd = address }
        cycleEndCandidate = address
    }

    private static func isTimedType(_ message: NMEAMessage) -> Bool {
        switch message {
        case .gga, .rmc, .gns, .gll, .zda: true
        case .gsa, .gsv, .vtg: false
        }
    }

    private mutating func finalize(_ epoch: Epoch) -> Fix? {
        guard epoch.hasTimedSentence else { return nil }
        var fix = Fix(time: timestamp(for: epoch), mode: .noFix)

        let gsaSatellites = epoch.gsa.isEmpty ? nil : epoch.gsa.reduce(0) { $0 + $1.satellitesUsed }
        fix.satellitesUsed = epoch.gga.compactMap(\.satellitesUsed).max()
            ?? epoch.gns.compactMap(\.satellitesUsed).max() ?? gsaSatellites

        var altitude: Double?
        var geoid: Double?
        if let gga = epoch.gga.first(where: \.hasPosition) {
            fix.latitude = gga.latitude
            fix.longitude = gga.longitude
            fix.quality = gga.quality.flatMap(FixQuality.init(ggaQuality:))
            altitude = gga.altitudeMSL
            geoid = gga.geoidSeparation
        } else if let gns = epoch.gns.first(where: \.hasPosition) {
            fix.latitude = gns.latitude
            fix.longitude = gns.longitude
            fix.quality = gns.quality
            altitude = gns.altitudeMSL
            geoid = gns.geoidSeparation
        } else if let rmc = epoch.rmc.first(where: \.hasPosition) {
            fix.latitude = rmc.latitude
            fix.longitude = rmc.longitude
            fix.quality = rmc.modeIndicator.flatMap(FixQuality.init(modeIndicator:)) ?? .gps
        } else if let gll = epoch.gll.first(where: \.hasPosition) {
            fix.latitude = gll.latitude
            fix.longitude = gll.longitude
            fix.quality = gll.modeIndicator.flatMap(FixQuality.init(modeIndicator:)) ?? .gps
        } else {
            return fix
        }

        // The receiver's own GSA verdict wins: a GSA "2" with a GGA altitude means the altitude
        // was held, not measured. Without a GSA, an altitude means 3D.
        switch epoch.gsa.compactMap(\.mode).max() {
        case 3: fix.mode = .threeD
        case 2: fix.mode = .twoD
        default: fix.mode = altitude != nil ? .threeD : .twoD
        }
        if fix.mode == .threeD {
            fix.altitudeMSL = altitude
            fix.geoidSeparation = geoid
        }

        fix.hdop = epoch.gsa.compactMap(\.hdop).first ?? epoch.gga.compactMap(\.hdop).first
            ?? epoch.gns.compactMap(\.hdop).first
        fix.pdop = epoch.gsa.compactMap(\.pdop).first
        fix.vdop = epoch.gsa.compactMap(\.vdop).first
        if let hdop = fix.hdop, hdop > 0 {
            fix.horizontalError = hdop * (fix.quality ?? .gps).rangeError
        }

        let knotsToMetresPerSecond = 1852.0 / 3600.0
        if let rmc = epoch.rmc.first(where: { $0.hasPosition && $0.speedKnots != nil }) {
            fix.speed = rmc.speedKnots.map { $0 * knotsToMetresPerSecond }
            fix.track = rmc.course
        } else if let vtg = epoch.vtg.first(where: { $0.isValid && $0.speedKnots != nil }) {
            fix.speed = vtg.speedKnots.map { $0 * knotsToMetresPerSecond }
            fix.track = vtg.course
        }
        if let track = fix.track, !(0..<360).contains(track) { fix.track = nil }
        return fix
    }

    private mutating func timestamp(for epoch: Epoch) -> UTCTimestamp? {
        guard let timeOfDay = epoch.timeOfDay else { return nil }
        let ownDate = epoch.rmc.lazy.compactMap(\.date).first ?? epoch.zda.lazy.compactMap(\.date).first
        let halfDay = 43_200_000
        if let ownDate {
            dateAnchor = (ownDate, timeOfDay)
            return UTCTimestamp(date: ownDate, millisecondOfDay: timeOfDay)
        }
        guard var anchor = dateAnchor else { return nil }
        if timeOfDay < anchor.timeOfDay - halfDay {
            anchor.date = anchor.date.adding(days: 1)
        } else if timeOfDay > anchor.timeOfDay + halfDay {
            anchor.date = anchor.date.adding(days: -1)
        }
        anchor.timeOfDay = timeOfDay
        dateAnchor = anchor
        return UTCTimestamp(date: anchor.date, millisecondOfDay: timeOfDay)
    }
}
