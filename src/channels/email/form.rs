//! Form posts as a list of fields, whichever encoding the provider used: SendGrid always sends
//! multipart/form-data, Mailgun urlencoded or multipart (with attachments). Fields keep their
//! raw bytes, so each can be decoded with the charset the provider names.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart};
use axum::http::Request;

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    /// Set on file parts (attachments).
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

/// Reads every field of a form body.
pub async fn read_fields(content_type: &str, body: Bytes) -> Result<Vec<Field>, String> {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&body).map_err(|e| format!("unreadable form: {e}"))?;
        return Ok(pairs
            .into_iter()
            .map(|(name, value)| Field {
                name,
                filename: None,
                content_type: None,
                bytes: Bytes::from(value),
            })
            .collect());
    }
    if !content_type.starts_with("multipart/form-data") {
        return Err(format!("expected a form, got {content_type:?}"));
    }
    let request = Request::builder()
        .header("content-type", content_type)
        .body(Body::from(body))
        .map_err(|e| e.to_string())?;
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| format!("unreadable multipart form: {e}"))?;
    let mut fields = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| format!("unreadable multipart form: {e}"))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|e| format!("unreadable multipart field {name:?}: {e}"))?;
        fields.push(Field {
            name,
            filename,
            content_type,
            bytes,
        });
    }
    Ok(fields)
}

/// The first field named `name`, as UTF-8 (invalid bytes replaced).
pub fn text(fields: &[Field], name: &str) -> Option<String> {
    fields
        .iter()
        .find(|f| f.name == name && f.filename.is_none())
        .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
}
