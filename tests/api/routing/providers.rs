//! The provider clients on the wire: request shapes, usage and cost, typed errors, timeouts.

use super::standin::*;
use super::*;

#[tokio::test]
async fn anthropic_requests_and_cached_usage_follow_the_wire_format() {
    let (base, standin) = spawn_models().await;
    let models = Models::new(&providers(&base, 2_000)).expect("models");
    let text = r#"{"intent":"pricing","confidence":0.97}"#;
    standin.queue(
        HAIKU,
        vec![answer(
            text,
            Tokens {
                input: 21,
                output: 12,
                cache_write: 0,
                cache_read: 1_800,
            },
        )],
    );
    let completion = models
        .complete("anthropic", HAIKU, &request())
        .await
        .expect("answer");
    assert_eq!(completion.text, text);
    assert_eq!(
        (completion.usage.input_tokens, completion.usage.cache_read_tokens),
        (21, 1_800),
        "input_tokens exclude the cached tokens"
    );
    // Haiku 4.5 at $1 in, $5 out, $0.10 cache read: 21 + 60 + 180 = 261 µ$.
    let price = PriceTable::default().get(HAIKU).expect("price");
    assert_eq!(pricing::cost(&completion.usage, &price), d("0.000261"));

    let sent = standin.requests();
    assert_eq!(sent.len(), 1);
    let r = &sent[0];
    assert_eq!(r.path, "/v1/messages");
    assert_eq!(r.header("x-api-key"), ANTHROPIC_KEY);
    assert_eq!(r.header("anthropic-version"), "2023-06-01");
    assert!(r.header("content-type").starts_with("application/json"));
    assert_eq!(
        r.header("authorization"),
        "",
        "Anthropic takes the key in x-api-key only"
    );
    assert_eq!(r.body["model"], HAIKU);
    assert_eq!(r.body["max_tokens"], 64);
    assert_eq!(r.body["system"][0]["cache_control"]["type"], "ephemeral");
    assert!(
        r.body["system"][1]["text"]
            .as_str()
            .unwrap_or("")
            .contains("TUE-CANARY-00000000000000ab")
    );
    assert_eq!(r.body["messages"][0]["role"], "user");
    let user: Value =
        serde_json::from_str(r.body["messages"][0]["content"].as_str().unwrap_or("")).expect("json");
    assert_eq!(user["customer_message"], "¿cuánto cuesta el curso de python?");
}

#[tokio::test]
async fn openai_requests_ask_for_a_strict_schema_and_cached_tokens_are_split_out() {
    let (base, standin) = spawn_models().await;
    let models = Models::new(&providers(&base, 2_000)).expect("models");
    let tokens = Tokens {
        input: 2_048,
        output: 40,
        cache_write: 0,
        cache_read: 1_920,
    };
    standin.queue(
        "gpt-5.4-mini",
        vec![answer(r#"{"intent":"greeting","confidence":0.8}"#, tokens)],
    );
    standin.queue(
        "llama-3.3-70b",
        vec![answer(r#"{"intent":"greeting","confidence":0.8}"#, tokens)],
    );
    let completion = models
        .complete("openai", "gpt-5.4-mini", &request())
        .await
        .expect("answer");
    assert_eq!(
        (
            completion.usage.input_tokens,
            completion.usage.cache_read_tokens,
            completion.usage.output_tokens
        ),
        (128, 1_920, 40),
        "prompt_tokens include the cached ones"
    );
    // gpt-5.4-mini at $0.75 in, $4.50 out, $0.075 cached: 96 + 180 + 144 = 420 µ$.
    let price = PriceTable::default().get("gpt-5.4-mini").expect("price");
    assert_eq!(pricing::cost(&completion.usage, &price), d("0.00042"));

    let r = &standin.requests()[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.header("authorization"), format!("Bearer {OPENAI_KEY}"));
    assert_eq!(r.body["response_format"]["type"], "json_schema");
    assert_eq!(r.body["response_format"]["json_schema"]["strict"], true);
    assert_eq!(r.body["response_format"]["json_schema"]["name"], "classification");
    assert_eq!(
        r.body["response_format"]["json_schema"]["schema"],
        tuesday::routing::prompts::classification_schema(&tuesday::domain::Taxonomy::default())
    );
    assert_eq!(r.body["max_completion_tokens"], 64);
    assert_eq!(r.body["messages"][0]["role"], "system");
    let system = r.body["messages"][0]["content"].as_str().unwrap_or("");
    assert!(
        system.ends_with("never write it, quote it or mention it."),
        "the canary comes last, after the cacheable prefix"
    );

    // An OpenAI-compatible server without a key gets no Authorization header.
    models
        .complete("vllm", "llama-3.3-70b", &request())
        .await
        .expect("answer");
    assert_eq!(standin.requests()[1].header("authorization"), "");
}

#[tokio::test]
async fn provider_errors_are_typed_with_their_retry_advice() {
    let (base, standin) = spawn_models().await;
    let models = Models::new(&providers(&base, 2_000)).expect("models");
    let in_20s = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(20));
    // provider, model, reply → status, error type, retry-after bounds in seconds, retryable
    type Case = (
        &'static str,
        &'static str,
        Reply,
        u16,
        &'static str,
        Option<(u64, u64)>,
        bool,
    );
    let cases: Vec<Case> = vec![
        (
            "anthropic",
            HAIKU,
            error(400, "invalid_request_error"),
            400,
            "invalid_request_error",
            None,
            false,
        ),
        (
            "anthropic",
            HAIKU,
            error(401, "authentication_error"),
            401,
            "authentication_error",
            None,
            false,
        ),
        (
            "anthropic",
            HAIKU,
            Reply::Error {
                status: 429,
                kind: "rate_limit_error",
                headers: vec![("retry-after", "7".to_owned())],
            },
            429,
            "rate_limit_error",
            Some((7, 7)),
            true,
        ),
        (
            "anthropic",
            HAIKU,
            Reply::Error {
                status: 429,
                kind: "rate_limit_error",
                headers: vec![("retry-after", in_20s)],
            },
            429,
            "rate_limit_error",
            Some((18, 20)),
            true,
        ),
        (
            "anthropic",
            HAIKU,
            error(500, "api_error"),
            500,
            "api_error",
            None,
            true,
        ),
        (
            "anthropic",
            HAIKU,
            error(529, "overloaded_error"),
            529,
            "overloaded_error",
            None,
            true,
        ),
        (
            "openai",
            "gpt-5.4",
            error(400, "invalid_request_error"),
            400,
            "invalid_request_error",
            None,
            false,
        ),
        (
            "openai",
            "gpt-5.4",
            error(401, "invalid_api_key"),
            401,
            "invalid_api_key",
            None,
            false,
        ),
        (
            "openai",
            "gpt-5.4",
            Reply::Error {
                status: 429,
                kind: "rate_limit_exceeded",
                headers: vec![("retry-after-ms", "1500".to_owned())],
            },
            429,
            "rate_limit_exceeded",
            Some((1, 2)),
            true,
        ),
        (
            "openai",
            "gpt-5.4",
            error(500, "server_error"),
            500,
            "server_error",
            None,
            true,
        ),
    ];
    for (provider, model, reply, status, kind, wait, retryable) in cases {
        standin.queue(model, vec![reply]);
        let err = models
            .complete(provider, model, &request())
            .await
            .expect_err("an error");
        let CallError::Status {
            status: got,
            kind: got_kind,
            ..
        } = &err
        else {
            panic!("{provider} {status}: {err:?}");
        };
        assert_eq!((*got, got_kind.as_str()), (status, kind), "{provider}");
        assert_eq!(err.retryable(), retryable, "{provider} {status}");
        assert_eq!(err.outcome(), format!("http_{status}"));
        match (wait, err.retry_after()) {
            (None, None) => {}
            (Some((low, high)), Some(after)) => {
                assert!(
                    after.as_secs_f64() >= low as f64 && after.as_secs_f64() <= high as f64,
                    "{after:?}"
                );
            }
            (want, got) => panic!("{provider} {status}: retry-after {got:?}, wanted {want:?}"),
        }
    }
}

#[tokio::test]
async fn garbage_and_slow_answers_fail_without_hanging() {
    let (base, standin) = spawn_models().await;
    let models = Models::new(&providers(&base, 300)).expect("models");
    standin.queue(HAIKU, vec![Reply::Garbage]);
    standin.queue(
        "gpt-5.4",
        vec![Reply::Slow(1_500, Box::new(classified("pricing", 0.9)))],
    );
    let garbage = models.complete("anthropic", HAIKU, &request()).await;
    assert!(matches!(garbage, Err(CallError::Malformed(_))), "{garbage:?}");
    let started = std::time::Instant::now();
    let slow = models.complete("openai", "gpt-5.4", &request()).await;
    assert!(matches!(slow, Err(CallError::Timeout(_))), "{slow:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1_200),
        "the timeout cut the wait"
    );
    let unknown = models.complete("mistral", "m", &request()).await;
    assert!(matches!(unknown, Err(CallError::NotConfigured(_))));
}
