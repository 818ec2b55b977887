/// Fixed-point number text for JSON and logs, without Foundation's `String(format:)` (which
/// pulls the whole of Foundation into a static binary).
public enum JSONNumber {
    /// `value` with at most `decimals` digits after the point, trailing zeros trimmed
    /// (`10.15`, `42`, `-0.5`). Non-finite values have no JSON form and give `null`.
    public static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "null" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9.0e18 else { return value.description }
        let units = UInt64(scaled), divisor = UInt64(scale)
        let whole = units / divisor
        var fraction = units % divisor
        var text = (value < 0 && units != 0 ? "-" : "") + String(whole)
        if fraction != 0 {
            var digits = decimals
            while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
            text += "." + pad(Int(fraction), digits)
        }
        return text
    }
}
