import Foundation
import GRDB

/// The product registry (clause 2): serial -> contract data.
extension WarrantyStore {
    public func addProduct(_ product: Product, replace: Bool = false, at now: Date = Date()) throws {
        try product.validate()
        try write { db in
            let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM product WHERE serial = ?", arguments: [product.serial]) ?? false
            if exists && !replace { throw RegistryError.duplicate(serial: product.serial) }
            try db.execute(sql: "INSERT OR REPLACE INTO product (serial, json, updatedAt) VALUES (?, ?, ?)",
                           arguments: [product.serial, try jsonText(product), now])
        }
    }

    public func product(serial: String) throws -> Product? {
        try read { db in try Self.product(serial: serial, db) }
    }

    public func products() throws -> [Product] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT json FROM product ORDER BY serial").map { try fromJSON(Product.self, $0) }
        }
    }

    static func product(serial: String, _ db: Database) throws -> Product? {
        guard let json = try String.fetchOne(db, sql: "SELECT json FROM product WHERE serial = ?", arguments: [serial]) else {
            return nil
        }
        return try fromJSON(Product.self, json)
    }
}
