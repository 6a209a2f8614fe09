// result<T>: a value or an l2sec::error, in the spirit of std::expected (C++23),
// which g++ 12 and clang 14 do not offer in C++20 mode.
#pragma once

#include <l2sec/core/error.hpp>

#include <memory>
#include <new>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

namespace l2sec {

/// Thrown only by result::value() on an error: callers who check first never see it.
class bad_result_access : public std::system_error {
  public:
    explicit bad_result_access(const error& e) : std::system_error(e.code, e.message()) {}
};

template <class T>
class [[nodiscard]] result {
    static_assert(!std::is_reference_v<T>, "result<T&> is not supported");

  public:
    using value_type = T;

    template <class U = T>
    requires std::is_constructible_v<T, U&&> &&(!std::is_same_v<std::remove_cvref_t<U>, result>)&&(
        !std::is_same_v<std::remove_cvref_t<U>, l2sec::error>)
        result(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>)
        : ok_(true) {
        std::construct_at(&val_, std::forward<U>(v));
    }
    result(const l2sec::error& e) noexcept : ok_(false) { std::construct_at(&err_, e); }
    template <class E>
    requires std::is_error_code_enum_v<E> result(E e)
    noexcept : result(l2sec::error(e)) {}

    result(const result& o) noexcept(std::is_nothrow_copy_constructible_v<T>) : ok_(o.ok_) {
        if (ok_)
            std::construct_at(&val_, o.val_);
        else
            std::construct_at(&err_, o.err_);
    }
    result(result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : ok_(o.ok_) {
        if (ok_)
            std::construct_at(&val_, std::move(o.val_));
        else
            std::construct_at(&err_, o.err_);
    }
    result& operator=(const result& o) {
        if (this != &o) {
            destroy();
            ok_ = o.ok_;
            if (ok_)
                std::construct_at(&val_, o.val_);
            else
                std::construct_at(&err_, o.err_);
        }
        return *this;
    }
    result& operator=(result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) {
        if (this != &o) {
            destroy();
            ok_ = o.ok_;
            if (ok_)
                std::construct_at(&val_, std::move(o.val_));
            else
                std::construct_at(&err_, o.err_);
        }
        return *this;
    }
    ~result() { destroy(); }

    bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }

    T& operator*() & noexcept { return val_; }
    const T& operator*() const& noexcept { return val_; }
    T&& operator*() && noexcept { return std::move(val_); }
    T* operator->() noexcept { return &val_; }
    const T* operator->() const noexcept { return &val_; }

    T& value() & {
        check();
        return val_;
    }
    const T& value() const& {
        check();
        return val_;
    }
    T&& value() && {
        check();
        return std::move(val_);
    }
    template <class U>
    T value_or(U&& d) const& {
        return ok_ ? val_ : static_cast<T>(std::forward<U>(d));
    }

    /// Precondition: !has_value().
    const l2sec::error& error() const noexcept { return err_; }

  private:
    void check() const {
        if (!ok_) throw bad_result_access(err_);
    }
    void destroy() noexcept {
        if (ok_)
            std::destroy_at(&val_);
        else
            std::destroy_at(&err_);
    }

    union {
        T val_;
        l2sec::error err_;
    };
    bool ok_;
};

template <>
class [[nodiscard]] result<void> {
  public:
    result() noexcept = default;
    result(const l2sec::error& e) noexcept : err_(e), ok_(false) {}
    template <class E>
    requires std::is_error_code_enum_v<E> result(E e)
    noexcept : result(l2sec::error(e)) {}

    bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    void value() const {
        if (!ok_) throw bad_result_access(err_);
    }
    const l2sec::error& error() const noexcept { return err_; }

  private:
    l2sec::error err_{};
    bool ok_ = true;
};

}  // namespace l2sec
