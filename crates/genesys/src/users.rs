//! User calls: read one or many users, find them by email or external id, update them.
//!
//! ```no_run
//! # async fn demo(client: genesys::GenesysClient) -> Result<(), genesys::ApiError> {
//! use genesys::UpdateUser;
//!
//! let found = client.search_users_by_emails(&["ada@example.com"]).await?.into_value();
//! if let Some(user) = found.first() {
//!     let update = UpdateUser { title: Some("Lead engineer".into()), ..UpdateUser::new(user.version) };
//!     let updated = client.patch_user(&user.id, &update).await?;
//!     println!("now version {} (correlation id {:?})", updated.value.version, updated.correlation_id());
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::HashSet;

use crate::client::{ApiResponse, Endpoint, GenesysClient, Verb, json_body};
use crate::error::ApiError;
use crate::models::{
    EntityListing, PatchUser, UpdateUser, User, UserSearchCriteria, UserSearchRequest,
    UsersSearchResponse,
};

/// Most ids `GET /api/v2/users?id=…` is sent with (the API's own maximum is unconfirmed).
pub const MAX_IDS_PER_GET: usize = 100;
/// Most emails one user search is sent with.
pub const MAX_EMAILS_PER_SEARCH: usize = 100;
/// Most users per `PATCH /api/v2/users/bulk` (documented maximum).
pub const MAX_USERS_PER_BULK_PATCH: usize = 50;
/// Pages a search is followed through at most (a guard against a server that never stops paging).
const MAX_SEARCH_PAGES: u32 = 100;

const VIEW_USERS: &str = "'Directory > User > View' (directory:user:view)";
const EDIT_USERS: &str = "'Directory > User > Edit' (directory:user:edit)";
const USER_NOT_FOUND: &str = "check the user id: no such user (it may have been deleted)";

pub(crate) const GET_USER: Endpoint = Endpoint {
    verb: Verb::Get,
    template: "/api/v2/users/{userId}",
    permission: Some(VIEW_USERS),
    not_found_hint: Some(USER_NOT_FOUND),
};
pub(crate) const GET_USERS: Endpoint = Endpoint {
    verb: Verb::Get,
    template: "/api/v2/users",
    permission: Some(VIEW_USERS),
    not_found_hint: None,
};
pub(crate) const PATCH_USER: Endpoint = Endpoint {
    verb: Verb::Patch,
    template: "/api/v2/users/{userId}",
    permission: Some(EDIT_USERS),
    not_found_hint: Some(USER_NOT_FOUND),
};
pub(crate) const SEARCH_USERS: Endpoint = Endpoint {
    verb: Verb::Post,
    template: "/api/v2/users/search",
    permission: Some(VIEW_USERS),
    not_found_hint: None,
};
pub(crate) const GET_USER_BY_EXTERNAL_ID: Endpoint = Endpoint {
    verb: Verb::Get,
    template: "/api/v2/users/externalid/{authorityName}/{externalKey}",
    permission: Some(VIEW_USERS),
    not_found_hint: Some(
        "no user has this external id: check the key and GENESYS_EXTERNAL_ID_AUTHORITY (both are case-sensitive)",
    ),
};
pub(crate) const PATCH_USERS_BULK: Endpoint = Endpoint {
    verb: Verb::Patch,
    template: "/api/v2/users/bulk",
    permission: Some(EDIT_USERS),
    not_found_hint: None,
};

impl GenesysClient {
    /// `GET /api/v2/users/{userId}`.
    pub async fn get_user(&self, user_id: &str) -> Result<ApiResponse<User>, ApiError> {
        let url = self.url(&["api", "v2", "users", user_id], &[]);
        self.send(&GET_USER, url, None).await
    }

    /// `GET /api/v2/users?id=…&id=…&pageSize=<n>&state=any`: the users among `user_ids` that exist, in any
    /// state (inactive users can be updated too). Ids that match no user are simply absent from the result.
    ///
    /// At most [`MAX_IDS_PER_GET`] distinct ids; more is an [`ErrorKind::InvalidRequest`](crate::ErrorKind)
    /// and nothing is sent. No ids: nothing is sent.
    pub async fn get_users_by_ids<S: AsRef<str>>(
        &self,
        user_ids: &[S],
    ) -> Result<ApiResponse<Vec<User>>, ApiError> {
        let ids = distinct(user_ids.iter().map(AsRef::as_ref));
        if ids.len() > MAX_IDS_PER_GET {
            return Err(GET_USERS.refused(format!(
                "{} user ids in one call, at most {MAX_IDS_PER_GET} allowed",
                ids.len()
            )));
        }
        if ids.is_empty() {
            return Ok(ApiResponse {
                value: Vec::new(),
                responses: Vec::new(),
            });
        }
        let mut query: Vec<(&str, String)> =
            ids.iter().map(|id| ("id", (*id).to_owned())).collect();
        query.push(("pageSize", ids.len().to_string()));
        query.push(("pageNumber", "1".to_owned()));
        query.push(("state", "any".to_owned()));
        let url = self.url(&["api", "v2", "users"], &query);
        let page: ApiResponse<EntityListing<User>> = self.send(&GET_USERS, url, None).await?;
        Ok(page.map(|listing| listing.entities))
    }

    /// `PATCH /api/v2/users/{userId}`: applies `update` (which must carry the user's current version).
    /// A stale version fails with [`ErrorKind::Conflict`](crate::ErrorKind::Conflict).
    pub async fn patch_user(
        &self,
        user_id: &str,
        update: &UpdateUser,
    ) -> Result<ApiResponse<User>, ApiError> {
        let body = json_body(&PATCH_USER, update)?;
        let url = self.url(&["api", "v2", "users", user_id], &[]);
        self.send(&PATCH_USER, url, Some(body)).await
    }

    /// `POST /api/v2/users/search` with an `EXACT` match on `email` for all `emails` at once, following
    /// `pageCount`. Emails that match no user are simply absent from the result.
    ///
    /// Like the API by default, this finds **active** users only; see
    /// [`search_users_by_emails_any_state`](Self::search_users_by_emails_any_state).
    ///
    /// At most [`MAX_EMAILS_PER_SEARCH`] distinct emails; more is an
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind) and nothing is sent. No emails: nothing is sent.
    pub async fn search_users_by_emails<S: AsRef<str>>(
        &self,
        emails: &[S],
    ) -> Result<ApiResponse<Vec<User>>, ApiError> {
        self.search_emails(emails, false).await
    }

    /// As [`search_users_by_emails`](Self::search_users_by_emails), but also finds inactive users, by adding
    /// the criterion `{"type":"EXACT","fields":["state"],"values":["active","inactive"]}` (the search returns
    /// only active users unless a criterion names `state`; that the real API accepts this criterion is
    /// unconfirmed, the look-alike honours it).
    pub async fn search_users_by_emails_any_state<S: AsRef<str>>(
        &self,
        emails: &[S],
    ) -> Result<ApiResponse<Vec<User>>, ApiError> {
        self.search_emails(emails, true).await
    }

    async fn search_emails<S: AsRef<str>>(
        &self,
        emails: &[S],
        include_inactive: bool,
    ) -> Result<ApiResponse<Vec<User>>, ApiError> {
        let emails = distinct(emails.iter().map(AsRef::as_ref));
        if emails.len() > MAX_EMAILS_PER_SEARCH {
            return Err(SEARCH_USERS.refused(format!(
                "{} emails in one search, at most {MAX_EMAILS_PER_SEARCH} allowed",
                emails.len()
            )));
        }
        let mut result = ApiResponse {
            value: Vec::new(),
            responses: Vec::new(),
        };
        if emails.is_empty() {
            return Ok(result);
        }
        let criteria = UserSearchCriteria {
            criteria_type: "EXACT".to_owned(),
            fields: vec!["email".to_owned()],
            values: emails.iter().map(|e| (*e).to_owned()).collect(),
        };
        let mut query = vec![criteria];
        if include_inactive {
            query.push(UserSearchCriteria {
                criteria_type: "EXACT".to_owned(),
                fields: vec!["state".to_owned()],
                values: vec!["active".to_owned(), "inactive".to_owned()],
            });
        }
        let mut request = UserSearchRequest {
            page_size: u32::try_from(emails.len()).unwrap_or(u32::MAX),
            page_number: 1,
            query,
        };
        loop {
            let body = json_body(&SEARCH_USERS, &request)?;
            let url = self.url(&["api", "v2", "users", "search"], &[]);
            let page: ApiResponse<UsersSearchResponse> =
                self.send(&SEARCH_USERS, url, Some(body)).await?;
            result.responses.extend(page.responses);
            let page = page.value;
            let got = page.results.len();
            result.value.extend(page.results);
            if got == 0
                || request.page_number >= page.page_count
                || request.page_number >= MAX_SEARCH_PAGES
            {
                return Ok(result);
            }
            request.page_number += 1;
        }
    }

    /// `GET /api/v2/users/externalid/{authorityName}/{externalKey}` (both path segments percent-encoded).
    /// An unknown key is a 404 ([`ErrorKind::Permanent`](crate::ErrorKind::Permanent)).
    pub async fn get_user_by_external_id(
        &self,
        authority_name: &str,
        external_key: &str,
    ) -> Result<ApiResponse<User>, ApiError> {
        let url = self.url(
            &[
                "api",
                "v2",
                "users",
                "externalid",
                authority_name,
                external_key,
            ],
            &[],
        );
        self.send(&GET_USER_BY_EXTERNAL_ID, url, None).await
    }

    /// `PATCH /api/v2/users/bulk` with `[{id, acdAutoAnswer}]`: the only field this endpoint changes.
    ///
    /// At most [`MAX_USERS_PER_BULK_PATCH`] users; more is an [`ErrorKind::InvalidRequest`](crate::ErrorKind)
    /// and nothing is sent. No users: nothing is sent.
    pub async fn patch_users_bulk_acd_auto_answer<S: AsRef<str>>(
        &self,
        changes: &[(S, bool)],
    ) -> Result<ApiResponse<Vec<User>>, ApiError> {
        if changes.len() > MAX_USERS_PER_BULK_PATCH {
            return Err(PATCH_USERS_BULK.refused(format!(
                "{} users in one bulk PATCH, at most {MAX_USERS_PER_BULK_PATCH} allowed",
                changes.len()
            )));
        }
        if changes.is_empty() {
            return Ok(ApiResponse {
                value: Vec::new(),
                responses: Vec::new(),
            });
        }
        let body: Vec<PatchUser> = changes
            .iter()
            .map(|(id, on)| PatchUser {
                id: id.as_ref().to_owned(),
                acd_auto_answer: *on,
            })
            .collect();
        let body = json_body(&PATCH_USERS_BULK, &body)?;
        let url = self.url(&["api", "v2", "users", "bulk"], &[]);
        let listing: ApiResponse<EntityListing<User>> =
            self.send(&PATCH_USERS_BULK, url, Some(body)).await?;
        Ok(listing.map(|l| l.entities))
    }
}

/// The distinct values in first-seen order (a repeated id would otherwise skew `pageSize`).
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    values.filter(|v| seen.insert(*v)).collect()
}
