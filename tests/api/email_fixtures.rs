//! Every fixture email in tests/data/email, parsed as raw MIME and trimmed: exactly what the
//! pipeline would read, plus the sender, subject, threading headers and attachments.

use tuesday::channels::email::{parse_mime, trim_reply};

struct Expect {
    file: &'static str,
    from: &'static str,
    name: Option<&'static str>,
    subject: &'static str,
    in_reply_to: Option<&'static str>,
    references: &'static [&'static str],
    kept: &'static str,
    attachments: &'static [(&'static str, &'static str)],
}

const FIXTURES: &[Expect] = &[
    Expect {
        file: "gmail_es.eml",
        from: "inigo.nunez@gmail.example",
        name: Some("Iñigo Núñez"),
        subject: "Re: Curso de Análisis de Datos",
        in_reply_to: Some("tuesday.1.aa@academia.example"),
        references: &["tuesday.1.aa@academia.example"],
        kept: "Hola, sí me interesa el curso de Análisis de Datos. ¿Cuánto cuesta en euros y hay cuotas?\n\nGracias,\nIñigo",
        attachments: &[],
    },
    Expect {
        file: "outlook_pt_iso8859.eml",
        from: "conceicao@empresa.example",
        name: Some("Conceição Araújo"),
        subject: "RES: Curso de UX",
        in_reply_to: None,
        references: &[],
        kept: "Olá, bom dia!\n\nGostaria de saber o preço do curso de UX em reais e se posso parcelar.\n\nAtenciosamente,\nConceição Araújo",
        attachments: &[],
    },
    Expect {
        file: "apple_en.eml",
        from: "sam.lee@icloud.example",
        name: Some("Sam Lee"),
        subject: "Re: Web development",
        in_reply_to: Some("tuesday.3.cc@academia.example"),
        references: &["tuesday.2.bb@academia.example", "tuesday.3.cc@academia.example"],
        kept: "How long is the web development course? And does it have a certificate?",
        attachments: &[],
    },
    Expect {
        file: "html_only_es.eml",
        from: "marta@correo.example",
        name: Some("Marta Gil"),
        subject: "precio",
        in_reply_to: None,
        references: &[],
        kept: "hola buenas, cuanto cuesta el curso de marketing digtal?? 🤔\n\nsaludos",
        attachments: &[],
    },
    Expect {
        file: "iso8859_es_attachment.eml",
        from: "jose.pena@correo.mx.example",
        name: Some("José Peña"),
        subject: "Inscripción",
        in_reply_to: None,
        references: &[],
        kept: "Buenas tardes:\n\nQuiero inscribirme en el curso de Gestión de Proyectos. ¿Cuándo empieza? Mi número de cédula está en el PDF adjunto.",
        attachments: &[("cedula.pdf", "application/pdf")],
    },
    Expect {
        file: "qp_pt_gmail.eml",
        from: "ana.souza@gmail.example",
        name: Some("Ana Souza"),
        subject: "Re: Inglês para negócios",
        in_reply_to: None,
        references: &[],
        kept: "Oi! Vi o anúncio do curso de Inglês para negócios e queria saber se as aulas são ao vivo ou gravadas, e quanto custa em reais 😊 Obrigada desde já pela atenção e pela ajuda com as informações!",
        attachments: &[],
    },
    Expect {
        file: "forwarded_mixed.eml",
        from: "pablo@correo.example",
        name: Some("Pablo Ruiz"),
        subject: "Fwd: curso UX",
        in_reply_to: None,
        references: &[],
        kept: "FYI, mi hermana quiere info del curso de UX, can you send her the prices? Gracias!",
        attachments: &[],
    },
    Expect {
        file: "forwarded_pt_apple.eml",
        from: "bruno@empresa.example",
        name: Some("Bruno Costa"),
        subject: "Fwd: Curso de dados",
        in_reply_to: None,
        references: &[],
        kept: "Bruno, quanto custa o curso de Análise de Dados? Dá pra pagar em 10x?",
        attachments: &[],
    },
    Expect {
        file: "toppost_long_thread_en.eml",
        from: "kim.park@corp.example",
        name: Some("Kim Park"),
        subject: "RE: RE: UX course",
        in_reply_to: Some("tuesday.9.dd@academia.example"),
        references: &[
            "kim-first@corp.example",
            "tuesday.8.ee@academia.example",
            "tuesday.9.dd@academia.example",
        ],
        kept: "hw much is teh UX course in dollars?? my company might pay for it",
        attachments: &[],
    },
    Expect {
        file: "thunderbird_es.eml",
        from: "carmen@correo.example",
        name: Some("Carmen Vidal"),
        subject: "Re: Diseño UX",
        in_reply_to: None,
        references: &[],
        kept: "Me gustaría saber si el curso de diseño UX tiene clases en vivo.",
        attachments: &[],
    },
];

fn fixture(file: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/email")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn each_fixture_parses_and_trims_to_exactly_the_reply() {
    for want in FIXTURES {
        let parsed = parse_mime(&fixture(want.file)).unwrap_or_else(|e| panic!("{}: {e}", want.file));
        let inbound = parsed
            .clone()
            .into_inbound(Some("reply.academia.example"), 0)
            .unwrap_or_else(|e| panic!("{}: {e}", want.file));
        assert_eq!(inbound.message.from, want.from, "{}", want.file);
        assert_eq!(
            inbound.message.profile_name.as_deref(),
            want.name,
            "{}",
            want.file
        );
        assert_eq!(inbound.subject, want.subject, "{}", want.file);
        assert_eq!(inbound.in_reply_to.as_deref(), want.in_reply_to, "{}", want.file);
        assert_eq!(inbound.references, want.references, "{}", want.file);
        assert_eq!(
            inbound.message.body, want.kept,
            "{}: what the pipeline reads",
            want.file
        );
        assert_eq!(inbound.trimmed_by, "trimmer", "{}", want.file);
        assert_eq!(trim_reply(&parsed.text), want.kept, "{}", want.file);
        // The full body is kept, quoted history included.
        assert!(
            inbound.full_body.len() > inbound.message.body.len() || want.kept == inbound.full_body.trim(),
            "{}",
            want.file
        );
        let attachments: Vec<(&str, &str)> = inbound
            .attachments
            .iter()
            .map(|a| (a.filename.as_str(), a.content_type.as_str()))
            .collect();
        assert_eq!(attachments, want.attachments, "{}", want.file);
    }
}

#[test]
fn attachments_are_metadata_only() {
    let parsed = parse_mime(&fixture("iso8859_es_attachment.eml")).expect("parses");
    assert_eq!(parsed.attachments.len(), 1);
    assert!(parsed.attachments[0].size > 0);
    assert!(!parsed.text.contains("JVBER"), "the PDF never reaches the text");
}

#[test]
fn garbage_is_a_clear_error() {
    assert!(parse_mime(b"").is_err() || parse_mime(b"").expect("parsed").into_inbound(None, 0).is_err());
    let no_sender = parse_mime(b"Subject: hola\r\n\r\nsin remitente").expect("parses");
    assert_eq!(
        no_sender
            .into_inbound(None, 0)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err("the message has no sender address".to_owned())
    );
}
