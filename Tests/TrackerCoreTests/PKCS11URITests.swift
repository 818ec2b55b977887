import Testing
@testable import TrackerCore

/// RFC 7512 URIs as a configuration writes them and as the credential store records a key.
@Suite struct PKCS11URITests {
    @Test func aConfiguredURIIsReadAndTheKeyURINamesExactlyOneKey() throws {
        let uri = try PKCS11URI(parsing: "pkcs11:token=trackerd;object=device")
        #expect(uri.token == "trackerd" && uri.object == "device" && uri.id == nil)
        #expect(uri.keyURI == "pkcs11:token=trackerd;object=device;type=private")
        let one = uri.with(id: [0x4A, 0x0F, 0xFF])
        #expect(one.keyURI == "pkcs11:token=trackerd;object=device;id=%4A%0F%FF;type=private")
        #expect(try PKCS11URI(parsing: one.description) == one, "a recorded URI reads back as the same key")
    }

    @Test func escapesQueryAttributesAndVendorAttributesSurvive() throws {
        let uri = try PKCS11URI(parsing: "pkcs11:model=SoftHSM%20v2;token=My%20Token;object=dev%3Bice;x-vendor=1;type=private"
                                    + "?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/trackerd/pin")
        #expect(uri.token == "My Token" && uri.object == "dev;ice")
        #expect(uri.modulePath == "/usr/lib/softhsm/libsofthsm2.so" && uri.pinSource == "file:/etc/trackerd/pin")
        #expect(uri.otherAttributes.map(\.name) == ["model", "x-vendor"])
        #expect(uri.keyURI == "pkcs11:token=My%20Token;object=dev%3Bice;model=SoftHSM%20v2;x-vendor=1;type=private")
        #expect(try PKCS11URI(parsing: uri.description) == uri)
        // Only the query's pin-value is a PIN; a label may say anything (found by make fuzz).
        #expect(try PKCS11URI(parsing: "pkcs11:token=t;object=dApin-value=1").object == "dApin-value=1")
    }

    @Test(arguments: [
        ("/etc/trackerd/key.pem", PKCS11URI.ParseError.notPKCS11),
        ("pkcs11:object=device", .noToken),
        ("pkcs11:token=trackerd", .noObject),
        ("pkcs11:token=;object=device", .noToken),
        ("pkcs11:token=trackerd;object=device?pin-value=1234", .pinInURI),
        ("pkcs11:token=trackerd;object=device;type=cert", .notAPrivateKey("cert")),
        ("pkcs11:token=trackerd;object=device;colour=red", .unknownAttribute("colour")),
        ("pkcs11:token=a;token=b;object=device", .repeated("token")),
        ("pkcs11:token=trackerd;object=dev%4", .badEscape("dev%4")),
        ("pkcs11:token=trackerd;object=dev%zz", .badEscape("dev%zz")),
    ])
    func aBadURIIsRefusedWithTheReason(text: String, expected: PKCS11URI.ParseError) {
        #expect(throws: expected) { try PKCS11URI(parsing: text) }
    }

    @Test func theConfigurationSaysWhatATokenKeyNeeds() throws {
        let good = try TrackerConfig.parse("""
        [credentials]
        key = "pkcs11:token=trackerd;object=device"
        pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so"
        pin_file = "/etc/trackerd/token.pin"
        rotate_before_days = 7
        [provisioning]
        claim_key = "pkcs11:token=trackerd;object=claim"
        forget_claim = true
        """, file: "t.toml")
        #expect(good.credentials.key == .token(PKCS11URI(token: "trackerd", object: "device")))
        #expect(good.credentials.rotateBeforeDays == 7 && good.provisioning?.forgetClaim == true)
        #expect(good.provisioning?.claimKeyStorage == .token(PKCS11URI(token: "trackerd", object: "claim")))
        #expect(try TrackerConfig.parse("", file: "t.toml").credentials == CredentialsConfig())
        #expect(CredentialsConfig().rotateBeforeDays == 30)

        func problems(_ text: String) -> [String] {
            do { _ = try TrackerConfig.parse(text, file: "t.toml"); return [] } catch {
                return error.errors.map { "\($0.line) \($0.key ?? "") \($0.message)" }
            }
        }
        #expect(problems("[credentials]\nkey = \"pkcs11:token=t;object=d\"\n") == [
            "2 credentials.pkcs11_module a key in a token needs the token's PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so or /usr/lib/aarch64-linux-gnu/pkcs11/libtpm2_pkcs11.so",
            "2 credentials.pin_file a key in a token needs the file (mode 0600) that holds the token's user PIN",
        ])
        #expect(problems("[credentials]\nkey = \"pkcs11:token=t;object=d\"\npkcs11_module = \"/m.so\"\npin_file = \"/p\"\n[provisioning]\nmethod = \"create-keys\"\n") == [
            "2 credentials.key a key in a token needs [provisioning] method = \"csr\": with \"create-keys\" AWS makes the key and sends it, so it would not stay in the token",
        ])
        #expect(problems("[provisioning]\nclaim_key = \"pkcs11:token=t;object=claim\"\n").count == 2, "a claim key in a token needs them too")
        #expect(problems("[credentials]\nkey = \"pkcs11:token=t;object=d?pin-value=1\"\n") == [
            "2 credentials.key \"pkcs11:token=t;object=d?pin-value=1\" holds a PIN (pin-value): put the PIN in [credentials] pin_file (mode 0600) instead",
        ])
        #expect(problems("[credentials]\nkey = \"tpm\"\n") == ["2 credentials.key \"tpm\" must be \"file\" or a PKCS#11 URI (pkcs11:token=LABEL;object=LABEL)"])
        #expect(problems("[mqtt]\nkey_file = \"pkcs11:token=t;object=d\"\n") == [
            "2 mqtt.key_file a key in a token is set with [credentials] key = \"pkcs11:token=t;object=d\"",
        ])
        #expect(problems("[credentials]\nrotate_before_days = -1\n") == ["2 credentials.rotate_before_days -1 is out of range (0 to 3650)"])
    }
}
