//! Routing calls: the organisation's skills and languages, and assigning them to a user in bulk.
//!
//! Skills and languages are assigned by id; [`GenesysClient::list_routing_skills`] and
//! [`GenesysClient::list_routing_languages`] resolve the names an input file uses.

use crate::client::{ApiResponse, Endpoint, GenesysClient, Verb, json_body};
use crate::error::ApiError;
use crate::models::{
    EntityListing, RoutingLanguage, RoutingSkill, UserRoutingLanguage, UserRoutingLanguagePost,
    UserRoutingSkill, UserRoutingSkillPost,
};

/// Most languages per `PATCH /api/v2/users/{userId}/routinglanguages/bulk` (documented maximum).
pub const MAX_LANGUAGES_PER_BULK_PATCH: usize = 50;
/// Page size used when listing skills and languages.
pub const LIST_PAGE_SIZE: u32 = 100;
/// Pages a listing is followed through at most (a guard against a server that never stops paging).
const MAX_LIST_PAGES: u32 = 1000;

const ASSIGN_SKILLS: &str = "'Routing > Skill > Assign' (routing:skill:assign)";
const ASSIGN_LANGUAGES: &str = "'Routing > Language > Assign' (routing:language:assign)";
const USER_OR_SKILL_NOT_FOUND: &str =
    "check the user id and that every skill or language id exists";

pub(crate) const PATCH_USER_SKILLS: Endpoint = Endpoint {
    verb: Verb::Patch,
    template: "/api/v2/users/{userId}/routingskills/bulk",
    permission: Some(ASSIGN_SKILLS),
    not_found_hint: Some(USER_OR_SKILL_NOT_FOUND),
};
pub(crate) const PUT_USER_SKILLS: Endpoint = Endpoint {
    verb: Verb::Put,
    template: "/api/v2/users/{userId}/routingskills/bulk",
    permission: Some(ASSIGN_SKILLS),
    not_found_hint: Some(USER_OR_SKILL_NOT_FOUND),
};
pub(crate) const PATCH_USER_LANGUAGES: Endpoint = Endpoint {
    verb: Verb::Patch,
    template: "/api/v2/users/{userId}/routinglanguages/bulk",
    permission: Some(ASSIGN_LANGUAGES),
    not_found_hint: Some(USER_OR_SKILL_NOT_FOUND),
};
pub(crate) const LIST_SKILLS: Endpoint = Endpoint {
    verb: Verb::Get,
    template: "/api/v2/routing/skills",
    permission: Some("'Routing > Skill > View' (routing:skill:view)"),
    not_found_hint: None,
};
pub(crate) const LIST_LANGUAGES: Endpoint = Endpoint {
    verb: Verb::Get,
    template: "/api/v2/routing/languages",
    permission: Some("'Routing > Language > View' (routing:language:view)"),
    not_found_hint: None,
};

impl GenesysClient {
    /// `PATCH /api/v2/users/{userId}/routingskills/bulk`: adds or updates these skills, keeps the others.
    /// Returns the user's skills as the API reports them afterwards.
    pub async fn patch_routing_skills_bulk(
        &self,
        user_id: &str,
        skills: &[UserRoutingSkillPost],
    ) -> Result<ApiResponse<Vec<UserRoutingSkill>>, ApiError> {
        self.assign(&PATCH_USER_SKILLS, user_id, "routingskills", skills)
            .await
    }

    /// `PUT /api/v2/users/{userId}/routingskills/bulk`: replaces all of the user's skills with these.
    pub async fn put_routing_skills_bulk(
        &self,
        user_id: &str,
        skills: &[UserRoutingSkillPost],
    ) -> Result<ApiResponse<Vec<UserRoutingSkill>>, ApiError> {
        self.assign(&PUT_USER_SKILLS, user_id, "routingskills", skills)
            .await
    }

    /// `PATCH /api/v2/users/{userId}/routinglanguages/bulk`: adds or updates these languages.
    ///
    /// At most [`MAX_LANGUAGES_PER_BULK_PATCH`]; more is an [`ErrorKind::InvalidRequest`](crate::ErrorKind)
    /// and nothing is sent.
    pub async fn patch_routing_languages_bulk(
        &self,
        user_id: &str,
        languages: &[UserRoutingLanguagePost],
    ) -> Result<ApiResponse<Vec<UserRoutingLanguage>>, ApiError> {
        if languages.len() > MAX_LANGUAGES_PER_BULK_PATCH {
            return Err(PATCH_USER_LANGUAGES.refused(format!(
                "{} languages in one bulk PATCH, at most {MAX_LANGUAGES_PER_BULK_PATCH} allowed",
                languages.len()
            )));
        }
        self.assign(
            &PATCH_USER_LANGUAGES,
            user_id,
            "routinglanguages",
            languages,
        )
        .await
    }

    /// `GET /api/v2/routing/skills[?name=…]`, every page. The API's name filter may match more than the exact
    /// name; compare names yourself.
    pub async fn list_routing_skills(
        &self,
        name: Option<&str>,
    ) -> Result<ApiResponse<Vec<RoutingSkill>>, ApiError> {
        self.list_all(&LIST_SKILLS, &["api", "v2", "routing", "skills"], name)
            .await
    }

    /// `GET /api/v2/routing/languages[?name=…]`, every page. The API's name filter may match more than the
    /// exact name; compare names yourself.
    pub async fn list_routing_languages(
        &self,
        name: Option<&str>,
    ) -> Result<ApiResponse<Vec<RoutingLanguage>>, ApiError> {
        self.list_all(
            &LIST_LANGUAGES,
            &["api", "v2", "routing", "languages"],
            name,
        )
        .await
    }

    async fn assign<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        user_id: &str,
        collection: &str,
        items: &[B],
    ) -> Result<ApiResponse<Vec<T>>, ApiError> {
        let body = json_body(endpoint, &items)?;
        let url = self.url(&["api", "v2", "users", user_id, collection, "bulk"], &[]);
        let listing: ApiResponse<EntityListing<T>> = self.send(endpoint, url, Some(body)).await?;
        Ok(listing.map(|l| l.entities))
    }

    async fn list_all<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        segments: &[&str],
        name: Option<&str>,
    ) -> Result<ApiResponse<Vec<T>>, ApiError> {
        let mut result = ApiResponse {
            value: Vec::new(),
            responses: Vec::new(),
        };
        let mut page_number = 1u32;
        loop {
            let mut query = vec![
                ("pageSize", LIST_PAGE_SIZE.to_string()),
                ("pageNumber", page_number.to_string()),
            ];
            if let Some(name) = name {
                query.push(("name", name.to_owned()));
            }
            let url = self.url(segments, &query);
            let page: ApiResponse<EntityListing<T>> = self.send(endpoint, url, None).await?;
            result.responses.extend(page.responses);
            let listing = page.value;
            let got = listing.entities.len();
            result.value.extend(listing.entities);
            let more = match listing.page_count {
                Some(count) => page_number < count,
                None => got >= LIST_PAGE_SIZE as usize,
            };
            if got == 0 || !more || page_number >= MAX_LIST_PAGES {
                return Ok(result);
            }
            page_number += 1;
        }
    }
}
