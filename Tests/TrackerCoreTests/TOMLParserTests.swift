import Testing
@testable import TrackerCore

@Suite struct TOMLParserTests {
    @Test func readsTheValueTypesWithTheirLines() throws {
        let text = """
        # comment
        title = "a \\"quoted\\" \\u00e9 string" # trailing comment
        literal = 'C:\\path'
        count = 1_000
        hex = 0xff
        negative = -42
        ratio = 2.5e-3
        big = +inf
        yes = true

        [gps]
        list = [
          1, 2,  # comment inside
          3,
        ]
        point = { lat = 10.1, lng = 10.2 }
        "quoted key" = "x"
        nested.key = 7
        """
        let root = try TOMLParser.parse(text)
        #expect(root["title"] == TOMLValue(.string("a \"quoted\" é string"), line: 2))
        #expect(root["literal"]?.kind == .string("C:\\path"))
        #expect(root["count"]?.kind == .integer(1000))
        #expect(root["hex"]?.kind == .integer(255))
        #expect(root["negative"]?.kind == .integer(-42))
        #expect(root["ratio"]?.kind == .float(0.0025))
        #expect(root["big"]?.kind == .float(.infinity))
        #expect(root["yes"]?.kind == .boolean(true))
        guard case .table(let gps) = root["gps"]?.kind else { Issue.record("no [gps]"); return }
        #expect(gps.line == 11)
        #expect(gps.keys == ["list", "point", "quoted key", "nested"])
        #expect(gps["list"]?.line == 12)
        if case .array(let items) = gps["list"]?.kind {
            #expect(items.map(\.kind) == [.integer(1), .integer(2), .integer(3)])
            #expect(items.map(\.line) == [13, 13, 14])
        } else { Issue.record("list is not an array") }
        guard case .table(let point) = gps["point"]?.kind else { Issue.record("no point"); return }
        #expect(point["lat"]?.kind == .float(10.1))
        guard case .table(let nested) = gps["nested"]?.kind else { Issue.record("no nested"); return }
        #expect(nested["key"] == TOMLValue(.integer(7), line: 18))
    }

    @Test func readsArraysOfTablesAndMultilineStrings() throws {
        let text = """
        [[geofence]]
        name = "depot"
        [[geofence]]
        name = "yard"
        [geofence.box]
        min_lat = 1
        [other]
        text = \"\"\"
        one
        two\"\"\"
        raw = '''
        a\\b'''
        """
        let root = try TOMLParser.parse(text)
        guard case .array(let zones) = root["geofence"]?.kind, zones.count == 2,
              case .table(let second) = zones[1].kind else { Issue.record("no geofence array"); return }
        #expect(second["name"]?.kind == .string("yard"))
        #expect(zones[1].line == 3)
        guard case .table(let box) = second["box"]?.kind else { Issue.record("box not attached to the last element"); return }
        #expect(box["min_lat"]?.kind == .integer(1))
        guard case .table(let other) = root["other"]?.kind else { Issue.record("no other"); return }
        #expect(other["text"]?.kind == .string("one\ntwo"))
        #expect(other["raw"]?.kind == .string("a\\b"))
    }

    @Test(arguments: [
        ("a = 1\na = 2", 2, "defined twice"),
        ("[gps]\nx = 1\n[gps]", 3, "defined twice"),
        ("a = ", 1, "expected a value"),
        ("a = \"open", 1, "not closed"),
        ("a = 1 b = 2", 1, "one key per line"),
        ("a = [1, 2", 1, "never closed"),
        ("a = 2024-01-01", 1, "dates are not used in trackerd's configuration"),
        ("a = hello", 1, "strings need quotes"),
        ("a = 1__0", 1, "underscore"),
        ("\n\nx.y = 1\nx = 2", 4, "defined twice"),
        ("p = { a = 1 }\n[p]", 2, "defined twice"),
        ("a = 007", 1, "not a valid integer"),
    ])
    func reportsSyntaxErrorsWithTheirLine(text: String, line: Int, message: String) {
        do {
            _ = try TOMLParser.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }
}
