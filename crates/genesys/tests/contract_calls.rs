//! The typed calls against the look-alike over real HTTP: what is sent is what the API expects, what comes
//! back decodes, and writes land.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use genesys::{Contact, UpdateUser, UserRoutingLanguagePost, UserRoutingSkillPost, UserState};
use genesys_mock::seed;
use support::{mock_config, start_with_client, user_id};

#[tokio::test]
async fn get_user_decodes_the_seeded_user() {
    let (mock, client) = start_with_client(mock_config()).await;
    let response = client.get_user(&user_id(42)).await.unwrap();
    assert_eq!(response.responses.len(), 1);
    let user = response.into_value();
    let expected = mock.user(&user_id(42)).unwrap();
    assert_eq!(user.id, user_id(42));
    assert_eq!(user.email.as_deref(), Some("user42@example.com"));
    assert_eq!(user.name.as_deref(), expected["name"].as_str());
    assert_eq!(user.title.as_deref(), expected["title"].as_str());
    assert_eq!(user.department.as_deref(), expected["department"].as_str());
    assert_eq!(user.version, expected["version"].as_i64().unwrap());
    assert_eq!(user.acd_auto_answer, expected["acdAutoAnswer"].as_bool());
    assert_eq!(user.manager_id(), Some(user_id(4).as_str()));
    assert_eq!(user.state, Some(UserState::Active));
    let phone = user.address(Contact::PHONE, Contact::WORK).unwrap();
    assert_eq!(
        phone.address.as_deref(),
        Some(seed::work_phone(42).as_str())
    );
}

#[tokio::test]
async fn get_users_by_ids_returns_existing_users_in_any_state() {
    let (_mock, client) = start_with_client(mock_config()).await;
    let ids = [
        user_id(3),
        user_id(50),
        user_id(99_999),
        user_id(3),
        user_id(7),
    ];
    let users = client.get_users_by_ids(&ids).await.unwrap().into_value();
    let mut got: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    got.sort_unstable();
    assert_eq!(got, vec![user_id(3), user_id(7), user_id(50)]);
    let inactive = users.iter().find(|u| u.id == user_id(50)).unwrap();
    assert_eq!(inactive.state, Some(UserState::Inactive));
    // Exactly 100 ids is allowed.
    let hundred: Vec<String> = (1..=100).map(user_id).collect();
    assert_eq!(
        client.get_users_by_ids(&hundred).await.unwrap().value.len(),
        100
    );
}

#[tokio::test]
async fn empty_inputs_send_nothing() {
    let (mock, client) = start_with_client(mock_config()).await;
    let none: [&str; 0] = [];
    assert!(
        client
            .get_users_by_ids(&none)
            .await
            .unwrap()
            .responses
            .is_empty()
    );
    assert!(
        client
            .search_users_by_emails(&none)
            .await
            .unwrap()
            .value
            .is_empty()
    );
    let no_changes: [(&str, bool); 0] = [];
    assert!(
        client
            .patch_users_bulk_acd_auto_answer(&no_changes)
            .await
            .unwrap()
            .value
            .is_empty()
    );
    assert_eq!(mock.stats().api_requests, 0);
}

#[tokio::test]
async fn search_by_emails_finds_many_users_in_one_call() {
    let (mock, client) = start_with_client(mock_config()).await;
    let emails = [
        "user11@example.com",
        "user12@example.com",
        "nobody@example.com",
        "user13@example.com",
    ];
    let found = client.search_users_by_emails(&emails).await.unwrap();
    assert_eq!(found.responses.len(), 1);
    let mut ids: Vec<String> = found.value.iter().map(|u| u.id.clone()).collect();
    ids.sort();
    assert_eq!(ids, vec![user_id(11), user_id(12), user_id(13)]);
    assert_eq!(mock.stats().route_total("POST /api/v2/users/search"), 1);
}

#[tokio::test]
async fn inactive_users_are_found_by_email_only_when_asked() {
    let (_mock, client) = start_with_client(mock_config()).await;
    let email = [seed::user_email(100)];
    assert!(
        client
            .search_users_by_emails(&email)
            .await
            .unwrap()
            .value
            .is_empty()
    );
    let found = client
        .search_users_by_emails_any_state(&email)
        .await
        .unwrap()
        .into_value();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].state, Some(UserState::Inactive));
}

#[tokio::test]
async fn get_user_by_external_id_finds_the_user() {
    let (_mock, client) = start_with_client(mock_config()).await;
    let user = client
        .get_user_by_external_id("gcbulk-demo", &seed::external_key(7))
        .await
        .unwrap()
        .into_value();
    assert_eq!(user.id, user_id(7));
}

#[tokio::test]
async fn patch_user_applies_profile_fields() {
    let (mock, client) = start_with_client(mock_config()).await;
    let id = user_id(21);
    let user = client.get_user(&id).await.unwrap().into_value();
    // One entry per media type and type: the extension goes on WORK2.
    let mut extension = Contact::work_extension("4021");
    extension.contact_type = Some("WORK2".into());
    let update = UpdateUser {
        name: Some("Zoë Ångström".into()),
        title: Some("Team Lead".into()),
        department: Some("Support".into()),
        preferred_name: Some("Zoë".into()),
        manager: Some(user_id(1)),
        addresses: Some(vec![Contact::work_phone("+3225550101"), extension]),
        ..UpdateUser::new(user.version)
    };
    let updated = client.patch_user(&id, &update).await.unwrap().into_value();
    assert_eq!(updated.version, user.version + 1);
    assert_eq!(updated.name.as_deref(), Some("Zoë Ångström"));
    assert_eq!(updated.manager_id(), Some(user_id(1).as_str()));
    let stored = mock.user(&id).unwrap();
    assert_eq!(stored["title"], "Team Lead");
    assert_eq!(stored["department"], "Support");
    assert_eq!(stored["preferredName"], "Zoë");
    assert_eq!(stored["manager"]["id"], user_id(1));
    let work = updated.address("PHONE", "WORK").unwrap();
    assert_eq!(work.address.as_deref(), Some("+3225550101"));
    assert_eq!(
        updated
            .address("PHONE", "WORK2")
            .unwrap()
            .extension
            .as_deref(),
        Some("4021")
    );
}

#[tokio::test]
async fn a_state_change_is_its_own_patch() {
    let (mock, client) = start_with_client(mock_config()).await;
    let id = user_id(22);
    let user = client.get_user(&id).await.unwrap().into_value();
    let update = UpdateUser {
        state: Some(UserState::Inactive),
        ..UpdateUser::new(user.version)
    };
    let updated = client.patch_user(&id, &update).await.unwrap().into_value();
    assert_eq!(updated.state, Some(UserState::Inactive));
    assert_eq!(mock.user(&id).unwrap()["state"], "inactive");
}

#[tokio::test]
async fn bulk_acd_auto_answer_updates_every_named_user() {
    let (mock, client) = start_with_client(mock_config()).await;
    let changes = [(user_id(31), true), (user_id(32), false)];
    let users = client
        .patch_users_bulk_acd_auto_answer(&changes)
        .await
        .unwrap()
        .into_value();
    assert_eq!(users.len(), 2);
    assert_eq!(mock.user(&user_id(31)).unwrap()["acdAutoAnswer"], true);
    assert_eq!(mock.user(&user_id(32)).unwrap()["acdAutoAnswer"], false);
}

#[tokio::test]
async fn routing_skills_are_listed_and_assigned() {
    let (mock, client) = start_with_client(mock_config()).await;
    let all = client.list_routing_skills(None).await.unwrap().into_value();
    assert_eq!(all.len(), seed::SKILL_NAMES.len());
    let named = client
        .list_routing_skills(Some("Skill 3"))
        .await
        .unwrap()
        .into_value();
    let skill3 = named.iter().find(|s| s.name == "Skill 3").unwrap();
    assert_eq!(skill3.id, seed::skill_id(3));

    let id = user_id(40);
    let add = [UserRoutingSkillPost {
        id: seed::skill_id(3),
        proficiency: 4.0,
    }];
    let after_patch = client
        .patch_routing_skills_bulk(&id, &add)
        .await
        .unwrap()
        .into_value();
    assert!(
        after_patch
            .iter()
            .any(|s| s.id == seed::skill_id(3) && s.proficiency == Some(4.0))
    );

    let replace = [
        UserRoutingSkillPost {
            id: seed::skill_id(1),
            proficiency: 2.0,
        },
        UserRoutingSkillPost {
            id: seed::skill_id(9),
            proficiency: 5.0,
        },
    ];
    let after_put = client
        .put_routing_skills_bulk(&id, &replace)
        .await
        .unwrap()
        .into_value();
    let mut ids: Vec<&str> = after_put.iter().map(|s| s.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, vec![seed::skill_id(1), seed::skill_id(9)]);
    assert_eq!(
        mock.user(&id).unwrap()["skills"].as_array().unwrap().len(),
        2
    );
}

#[tokio::test]
async fn routing_languages_are_listed_and_assigned() {
    let (_mock, client) = start_with_client(mock_config()).await;
    let all = client
        .list_routing_languages(None)
        .await
        .unwrap()
        .into_value();
    assert_eq!(all.len(), seed::LANGUAGE_NAMES.len());
    let french = client
        .list_routing_languages(Some("French"))
        .await
        .unwrap()
        .into_value();
    let french = french.iter().find(|l| l.name == "French").unwrap();
    let languages = [UserRoutingLanguagePost {
        id: french.id.clone(),
        proficiency: 3.0,
    }];
    let assigned = client
        .patch_routing_languages_bulk(&user_id(41), &languages)
        .await
        .unwrap()
        .into_value();
    assert!(
        assigned
            .iter()
            .any(|l| l.id == french.id && l.proficiency == Some(3.0))
    );
}
