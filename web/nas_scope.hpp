#pragma once
// Which NASes an account may see. An admin sees every NAS; an operator only the NASes of its
// groups. A group is named in the clients file, where a NAS is declared (server/clients_file.hpp):
//
//   client gw-east-1 {
//     ipaddr = 192.0.2.10
//     secret = ...
//     group = east
//   }
//
// A NAS of the stored data belongs to a client when its requests came from an address inside
// the client's ipaddr prefix: the source address, which the client's shared secret
// authenticates, not a NAS-IP-Address or NAS-Identifier the NAS states about itself. The nas
// table keeps each NAS's identity (the name its sessions are stored under) with the address its
// requests came from; the scope is those identities and addresses, handed to the report queries
// (storage::NasScope), which read only their rows.

#include "server/clients_file.hpp"
#include "storage/read_db.hpp"
#include "storage/report_filters.hpp"
#include "web/auth.hpp"

namespace acctlab::web {

/** The scope of account over the clients file's groups and the database's NASes. */
storage::NasScope nas_scope(const Account& account, const server::ClientList& clients,
                            storage::ReadOnlyDatabase& db);

/** The groups of accounts that no client of the file names: worth a warning at start. */
std::vector<std::string> unknown_groups(const std::vector<Account>& accounts,
                                        const server::ClientList& clients);

} // namespace acctlab::web
