/// Fixed-point number text for JSON and logs, without Foundation's `String(format:)` (which
/// pulls the whole of Foundation into a static binary).
public enum JSONNumber {
    /// `value` with at most `decimals` digits after the point, trailing zeros trimmed
    /// (`10.15`, `42`, `-0.5`). Non-finite values have no JSON form and give `null`.
    public static func fixed(_ value: Double, _ decimals: Int) -> String {
        var out: [UInt8] = []
        appendFixed(value, decimals, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `fixed`'s text appended to `out` as UTF-8: a payload is built as bytes, not from Strings
    /// (at a fix a message, String building was most of the cost of the engine's step).
    public static func appendFixed(_ value: Double, _ decimals: Int, to out: inout [UInt8]) {
        guard value.isFinite else {
            out.append(contentsOf: "null".utf8)
            return
        }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9.0e18 else {
            out.append(contentsOf: value.description.utf8)
            return
        }
        let units = UInt64(scaled), divisor = UInt64(scale)
        let whole = units / divisor
        var fraction = units % divisor
        if value < 0 && units != 0 { out.append(UInt8(ascii: "-")) }
        appendDigits(whole, width: 1, to: &out)
        if fraction != 0 {
            var digits = decimals
            while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
            out.append(UInt8(ascii: "."))
            appendDigits(fraction, width: digits, to: &out)
        }
    }

    /// `value`'s decimal digits, zero-padded to `width`.
    public static func appendDigits(_ value: UInt64, width: Int, to out: inout [UInt8]) {
        var divisor: UInt64 = 1
        var count = 1
        while count < 20 && value / divisor >= 10 {
            divisor *= 10
            count += 1
        }
        let zero = UInt8(ascii: "0")
        if width > count { for _ in count..<width { out.append(zero) } }
        var rest = value
        while divisor > 0 {
            out.append(zero + UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
