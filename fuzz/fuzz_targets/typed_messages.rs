//! Any bytes → `Ccr` / `Cca` / `Acr` / `Aca` decoding never panics and
//! agrees with the generic `Message` view: what a typed struct says is what
//! `Message::get` says, MSCC iteration sees the same groups as `get_all`,
//! a typed decode succeeds only where the generic grammar check does, the
//! one-pass CCR and ACR decodes (the AVPs their readers list checked by
//! those readers) equal the generic validation followed by the read, the
//! groups read in the validation walk equal their own decoders', and the
//! dictionary's compiled validation of a CCR or ACR gives what the generic
//! validator gives.
#![no_main]

use diameter_cc::dict::{self, tgpp, CreditControl};
use diameter_cc::msg::{Aca, Acr, Cca, Ccr, ImsInformation, ServiceUnit};
use diameter_core::dict::{base, AvpInfo, CommandDef};
use diameter_core::{ApplicationId, CommandCode, Dictionary, Message, ParseConfig};
use libfuzzer_sys::fuzz_target;

/// `CreditControl` without its compiled validators (the generic
/// validator for every command).
struct Interpreted;

impl Dictionary for Interpreted {
    fn avp(&self, code: u32, vendor: u32) -> Option<&'static AvpInfo> {
        CreditControl.avp(code, vendor)
    }
    fn command(&self, code: CommandCode, request: bool) -> Option<&'static CommandDef> {
        CreditControl.command(code, request)
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = Message::parse_with(data, &CreditControl) else {
        return;
    };
    match Ccr::decode(&msg) {
        Ok(ccr) => {
            assert!(msg
                .validate_command(&dict::CCR, &CreditControl, &ParseConfig::DEFAULT)
                .is_ok());
            assert_eq!(Some(ccr.session_id), msg.get(&base::SESSION_ID).unwrap());
            assert_eq!(Some(ccr.origin_host), msg.get(&base::ORIGIN_HOST).unwrap());
            assert_eq!(
                Some(ccr.cc_request_number),
                msg.get(&dict::CC_REQUEST_NUMBER).unwrap()
            );
            assert_eq!(
                Some(ccr.cc_request_type),
                msg.get(&dict::CC_REQUEST_TYPE).unwrap()
            );
            assert_eq!(ccr.user_name, msg.get(&base::USER_NAME).unwrap());
            let typed = ccr.mscc().count();
            let generic = msg.get_all(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL).count();
            assert_eq!(typed, generic, "MSCC count differs");
            for m in ccr.mscc() {
                let _ = m;
            }
        }
        Err(e) => {
            if let Some(off) = e.offset() {
                assert!(off < data.len());
            }
        }
    }
    // The compiled validation (CCR, ACR) agrees with the generic one.
    let cfg = ParseConfig::DEFAULT;
    let compiled = msg.validate_with_config(&CreditControl, &cfg);
    assert_eq!(
        compiled,
        msg.validate_with_config(&Interpreted, &cfg),
        "compiled validation differs"
    );
    // The one-pass decode (validation and read in one walk, for a message
    // not validated yet) agrees with validating first and reading after.
    if msg.command_code() == base::ACR.code && msg.is_request() {
        let one = Acr::decode(&msg).map(|mut a| {
            a.message = msg;
            a
        });
        let two = msg
            .validated(&Interpreted)
            .and_then(|m| Acr::decode(&m))
            .map(|mut a| {
                a.message = msg;
                a
            });
        assert_eq!(one, two, "one-pass ACR decode differs");
    }
    if msg.command_code() == dict::CCR.code
        && msg.is_request()
        && msg.application_id() == ApplicationId::CREDIT_CONTROL
    {
        let one = Ccr::decode(&msg).map(|mut c| {
            c.message = msg;
            c
        });
        let two = msg
            .validated(&Interpreted)
            .and_then(|m| Ccr::decode(&m))
            .map(|mut c| {
                c.message = msg;
                c
            });
        assert_eq!(one, two, "one-pass CCR decode differs");
        // The groups read in the validation walk (Subscription-Id,
        // Requested-Service-Unit, Service-Information) are what their own
        // decoders read from the valid message afterwards (the same readers
        // fed by a walk of their own: this checks what the validation walk
        // hands them).
        if let Ok(c) = one {
            let first_id = c.subscription_ids().next().transpose();
            assert_eq!(Ok(c.subscription_id), first_id, "Subscription-Id");
            let si = msg.get(&tgpp::SERVICE_INFORMATION).expect("valid");
            assert_eq!(c.service_information, si, "Service-Information");
            let ims = si.map(ImsInformation::in_service_information).transpose();
            assert_eq!(Ok(c.ims), ims.map(Option::flatten), "IMS-Information");
            let rsu = msg.get(&dict::REQUESTED_SERVICE_UNIT).expect("valid");
            let rsu = rsu.map(ServiceUnit::decode).transpose();
            assert_eq!(Ok(c.requested_service_unit), rsu, "Requested-Service-Unit");
        }
    }
    match Cca::decode(&msg) {
        Ok(cca) => {
            assert_eq!(Some(cca.session_id), msg.get(&base::SESSION_ID).unwrap());
            assert_eq!(
                Some(cca.result_code.0),
                msg.get(&base::RESULT_CODE).unwrap()
            );
            assert_eq!(
                cca.cc_request_number,
                msg.get(&dict::CC_REQUEST_NUMBER).unwrap()
            );
            assert_eq!(
                cca.mscc().count(),
                msg.get_all(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL).count()
            );
            for m in cca.mscc() {
                let _ = m;
            }
        }
        Err(e) => {
            if let Some(off) = e.offset() {
                assert!(off < data.len());
            }
        }
    }
    if let Ok(acr) = Acr::decode(&msg) {
        assert!(msg
            .validate_command(&base::ACR, &CreditControl, &ParseConfig::DEFAULT)
            .is_ok());
        assert_eq!(Some(acr.session_id), msg.get(&base::SESSION_ID).unwrap());
        assert_eq!(Some(acr.origin_host), msg.get(&base::ORIGIN_HOST).unwrap());
    }
    if let Ok(aca) = Aca::decode(&msg) {
        assert_eq!(Some(aca.session_id), msg.get(&base::SESSION_ID).unwrap());
    }
});
